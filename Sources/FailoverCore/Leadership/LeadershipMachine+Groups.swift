/// Inputs about groups: snapshots, commands, finished work and the answers of commits;
/// each group applies its inputs in order, one commit at a time.
extension LeadershipMachine {
    /// A fresh snapshot of the sites: while leading, every group judges it (a failover may
    /// start). Kept for ticks and take-overs.
    public mutating func observe(_ snapshot: WorldSnapshot, now: ContinuousClock.Instant, wall: Timestamp) -> [Action] {
        lastSnapshot = snapshot
        guard term != nil else { return [] }
        var actions: [Action] = []
        for name in settings.groups.map(\.name) {
            guard var slot = slots[name] else { continue }
            if !slot.queue.contains(where: \.isObserve) { slot.queue.append(.observe) }
            slots[name] = slot
            actions += pump(name, now: now, wall: wall)
        }
        return actions
    }

    /// Keeps `snapshot` as the one ticks judge, without judging it now.
    public mutating func remember(_ snapshot: WorldSnapshot) { lastSnapshot = snapshot }

    /// The last incident of `group` this controller knows.
    public func lastIncident(of group: String) -> Incident? { slots[group]?.lastIncident }

    /// A human's command `id` on `group`, judged on `snapshot`; answered with
    /// `.answer(command: id, …)` once refused or recorded.
    public mutating func command(
        _ id: Int, _ command: GroupCommand, group: String, snapshot: WorldSnapshot, now: ContinuousClock.Instant,
        wall: Timestamp
    ) -> [Action] {
        guard slots[group] != nil else { return [.answer(command: id, .refused("no group named \(group)"))] }
        slots[group]?.queue.append(.command(id: id, command, snapshot))
        return pump(group, now: now, wall: wall)
    }

    /// A hook or step ended. Its result is recorded only when it is still its group's
    /// running work in the current term; a result of another term is dropped (the leader
    /// of that term re-runs the step).
    public mutating func workFinished(
        _ work: Work, _ result: WorkResult, now: ContinuousClock.Instant, wall: Timestamp
    ) -> [Action] {
        let group = work.context.group
        guard var slot = slots[group], slot.work?.id == work.id, term == work.term else {
            let why = term == work.term ? "it was replaced" : "it ran in term \(work.term), this controller \(term.map { "leads in term \($0)" } ?? "does not lead")"
            return [.log(.warning, "group \(group): the result of \(Self.name(work)) is not recorded: \(why)", group: group)]
        }
        slot.work = nil
        slot.queue.append(.finished(work, result))
        slots[group] = slot
        return pump(group, now: now, wall: wall)
    }

    /// Commit `id` was written at `revision`: the machine takes the new state and releases
    /// its effects (work, the command's answer) if it still leads in the commit's term.
    public mutating func commitSucceeded(
        _ id: Int, revision: Int64, now: ContinuousClock.Instant, wall: Timestamp
    ) -> [Action] {
        guard let name = group(ofCommit: id), var slot = slots[name], let flight = slot.inFlight else { return [] }
        slot.inFlight = nil
        slot.failures = 0
        slot.answeredAt = now
        slot.fsm = flight.proposed
        slot.revision = revision
        var actions: [Action] = []
        for incident in flight.commit.incidents where incident.result == .succeeded {
            // Counted once: the transition into succeeded, not a later save of the same incident.
            if slot.lastIncident?.id != incident.id || slot.lastIncident?.result != .succeeded { actions.append(.succeeded(incident)) }
        }
        if let last = flight.commit.incidents.last { slot.lastIncident = last }
        if let term, term == flight.term {
            for effect in flight.effects {
                let started: Work
                switch effect {
                case .runHook(let context): started = Work(id: newID(), term: term, context: with(context, term), step: nil)
                case .runStep(let context, let index): started = Work(id: newID(), term: term, context: with(context, term), step: index)
                case .event, .saveIncident: continue
                }
                if let old = slot.work { actions.append(.cancel([old.id], reason: "replaced by \(Self.name(started))")) }
                slot.work = started
                actions.append(.start(started))
            }
        }
        slots[name] = slot
        if case .command(let command, _, _) = flight.input {
            actions.append(.answer(command: command, .done(GroupStatus(slot.fsm, last: slot.lastIncident))))
        }
        return actions + pump(name, now: now, wall: wall)
    }

    /// Commit `id` was not written: not the leader (step down), stale (take the ledger's
    /// state and resume it), or failed (try its input again after a backoff; a command is
    /// refused at once).
    public mutating func commitRejected(
        _ id: Int, _ error: LedgerError, now: ContinuousClock.Instant, wall: Timestamp
    ) -> [Action] {
        guard let name = group(ofCommit: id), var slot = slots[name], let flight = slot.inFlight,
            let group = settings.groups.first(where: { $0.name == name })
        else { return [] }
        slot.inFlight = nil
        slot.answeredAt = now
        slots[name] = slot
        var actions: [Action] = [
            .log(.critical, "group \(name): the shared state was not changed, so it does not act on this: \(error)", group: name)
        ]
        if case .command(let command, _, _) = flight.input {
            actions.append(.answer(command: command, .refused("the controller cannot record it, so nothing was done: \(error)")))
        }
        switch error {
        case .notLeader:
            return actions + stepDown(why: error.description, wall: wall)
        case .stale(let entry):
            actions += take(entry, group: group, leading: term != nil)
            if !flight.input.isCommand { slots[name]?.queue.insert(flight.input, at: 0) }
            if term != nil { slots[name]?.queue.insert(.restart(reason: "after re-reading the shared state"), at: 0) }
        case .failed:
            guard term != nil, !flight.input.isCommand else { break }
            slots[name]?.queue.insert(flight.input, at: 0)
            let failures = slot.failures + 1
            let retryAt = now + backoff(after: failures)
            slots[name]?.failures = failures
            slots[name]?.retryAt = retryAt
        }
        return actions + pump(name, now: now, wall: wall) + wake(now: now)
    }

    /// Applies the group's waiting inputs in order until one needs a commit (sent) or
    /// none is left. A follower refuses commands and drops everything else.
    mutating func pump(_ name: String, now: ContinuousClock.Instant, wall: Timestamp) -> [Action] {
        guard var slot = slots[name], slot.inFlight == nil, slot.retryAt == nil else { return [] }
        var actions: [Action] = []
        defer { slots[name] = slot }
        while !slot.queue.isEmpty {
            let input = slot.queue.removeFirst()
            var fsm = slot.fsm
            let effects: [GroupEffect]
            switch input {
            case .observe:
                guard let snapshot = lastSnapshot, term != nil else { continue }
                effects = fsm.observe(acting(snapshot, now: now, wall: wall))
            case .command(let id, let command, let snapshot):
                do {
                    effects = try fsm.handle(command, snapshot: acting(snapshot, now: now, wall: wall))
                } catch {
                    actions.append(.answer(command: id, .refused(error.description)))
                    continue
                }
            case .finished(let work, let result):
                guard term == work.term, slot.work == nil, Self.belongs(work, to: fsm) else { continue }
                switch result {
                case .hook(let allowed, let detail): effects = fsm.hookFinished(allowed: allowed, detail: detail, at: wall)
                case .step(let outcome): effects = fsm.stepFinished(outcome, at: wall)
                }
            case .restart(let reason):
                guard term != nil else { continue }
                effects = fsm.restart(at: wall, reason: reason)
            case .rewrite:
                guard term != nil else { continue }
                effects = []
            }
            if effects.isEmpty && fsm == slot.fsm, !input.isRewrite {
                if case .command(let id, _, _) = input { actions.append(.answer(command: id, .done(GroupStatus(fsm, last: slot.lastIncident)))) }
                continue
            }
            var incidents: [Incident] = []
            var events: [GroupEvent] = []
            for effect in effects {
                if case .saveIncident(let incident) = effect { incidents.append(incident) }
                if case .event(let event) = effect { events.append(event) }
            }
            let commit = Commit(
                id: newID(), group: name, state: fsm.state, expected: slot.revision, incidents: incidents, events: events)
            slot.inFlight = InFlight(commit: commit, proposed: fsm, effects: effects, input: input, term: term)
            actions.append(.commit(commit))
            break
        }
        return actions
    }

    /// `snapshot` as this controller may act on it now.
    func acting(_ snapshot: WorldSnapshot, now: ContinuousClock.Instant, wall: Timestamp) -> WorldSnapshot {
        var snapshot = snapshot
        snapshot.at = max(snapshot.at, wall)
        snapshot.canAct = term != nil && leaseSafe(at: now)
        snapshot.whyNot = snapshot.canAct ? nil : (term == nil ? "this controller is not the leader (\(coordination.leader ?? "none"))" : "its lease may expire")
        return snapshot
    }

    /// Whether `work`'s result belongs to the run `fsm` is in, at the same hook or step.
    static func belongs(_ work: Work, to fsm: GroupFSM) -> Bool {
        guard let run = fsm.state.run, run.incidentID(group: work.context.group) == work.context.incident,
            run.epoch == work.context.epoch
        else { return false }
        if let step = work.step { return run.phase == .running && run.step == step }
        return run.phase == .awaitingHook
    }

    func group(ofCommit id: Int) -> String? {
        slots.first { $0.value.inFlight?.commit.id == id }?.key
    }

    func backoff(after failures: Int) -> Duration {
        var wait = settings.retry
        for _ in 1..<max(failures, 1) where wait < settings.retryCap { wait = wait * 2 }
        return min(wait, settings.retryCap)
    }

    func with(_ context: RunContext, _ term: Int64) -> RunContext {
        var context = context
        context.term = term
        return context
    }

    /// `step 3 of web-2` or `the pre hook of web-2`.
    static func name(_ work: Work) -> String {
        work.step.map { "step \($0 + 1) of \(work.context.incident)" } ?? "the pre hook of \(work.context.incident)"
    }
}

extension LeadershipMachine.GroupInput {
    var isRewrite: Bool {
        if case .rewrite = self { return true }
        return false
    }

    var isCommand: Bool {
        if case .command = self { return true }
        return false
    }
}
