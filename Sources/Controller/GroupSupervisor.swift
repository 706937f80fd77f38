import Actions
import Coordination
import EventLog
import FailoverCore
import Logging

/// Owns every group's `GroupFSM` and performs its effects: events, incidents and the new
/// state are written in one transaction before anything is done, then hooks and steps run
/// in tasks whose results come back here.
///
/// A state that cannot be written stops the group from acting: nothing happens that the
/// event log does not hold first.
///
/// With a shared `ledger` (etcd) the ledger holds the group states: every change is first a
/// transaction guarded by leadership and the state's revision, then mirrored into the event
/// log. Only the leader acts; when it becomes the leader it reads the states and resumes any
/// unfinished plan at its stored step, and when it stops being the leader it cancels its
/// running steps at once. Followers re-read the states every tick.
actor GroupSupervisor {
    let config: ControllerConfig
    let store: EventStore
    let board: StatusBoard
    let runner: StepRunner
    let hooks: ExecAction
    let wallClock: any WallClock
    let logger: Logger
    /// Where completed failovers and their RTO/RPO are recorded (`GET /metrics`).
    let metrics: ControllerMetrics?
    private var machines: [String: GroupFSM] = [:]
    private var lastIncidents: [String: Incident] = [:]
    private var tasks: [String: Task<Void, Never>] = [:]
    private var started = false
    let ledger: (any GroupLedger)?
    /// The ledger revision each machine's state was read or written at.
    private var revisions: [String: Int64] = [:]
    /// Whether this controller leads (ledger mode): it took over the ledger's states.
    private var acting = false
    /// A take-over is reading the ledger.
    private var takingOver = false
    /// Counts take-overs: a step or hook launched in one term may not act in another.
    private var term = 0
    /// Groups whose change is being recorded; a change waits for the one before it.
    private var busy: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(
        config: ControllerConfig, store: EventStore, board: StatusBoard, runner: StepRunner, hooks: ExecAction,
        wallClock: any WallClock, logger: Logger, ledger: (any GroupLedger)? = nil, metrics: ControllerMetrics? = nil
    ) {
        self.ledger = ledger
        self.metrics = metrics
        self.config = config
        self.store = store
        self.board = board
        self.runner = runner
        self.hooks = hooks
        self.wallClock = wallClock
        self.logger = logger
    }

    /// Loads the stored states and resumes any plan a previous process left running.
    ///
    /// - Throws: when the stored states cannot be read: acting on a forgotten state would
    ///   reset epochs and primaries, so the controller must not start.
    func start() async throws {
        let stored = try store.groupStates()
        for group in config.groups {
            let state = stored[group.name].map { checked($0, group) }
            machines[group.name] = GroupFSM(config: group, state: state)
            lastIncidents[group.name] = state?.lastIncident.flatMap { try? store.incident(id: $0) }
            if let last = lastIncidents[group.name], last.result == .succeeded { metrics?.recordLastMeasures(of: last) }
        }
        started = true
        // With a ledger the leader resumes plans when it takes over, not every process.
        guard ledger == nil else { return await publishStatus() }
        for group in config.groups {
            await commit(group.name) { fsm, now in fsm.restart(at: now) }
        }
        await publishStatus()
    }

    /// Ledger mode: follows this controller's leadership. On becoming the leader it reads
    /// every state from the ledger and resumes unfinished plans; on losing it, it cancels
    /// every running step and hook at once.
    private func follow(_ snapshot: WorldSnapshot) async {
        guard let ledger else { return }
        if snapshot.canAct && !acting && !takingOver {
            // One take-over at a time: a tick and a snapshot may both get here.
            takingOver = true
            defer { takingOver = false }
            let entries: [String: LedgerEntry]
            do {
                entries = try await ledger.loadGroups()
            } catch {
                logger.error("cannot read the group states from the coordination store, so this leader does not act yet: \(error)")
                return
            }
            guard await ledger.mayAct() else { return }
            adopt(entries)
            term += 1
            acting = true
            logger.notice("this controller leads: it acts for \(config.groups.count) groups from the shared state")
            for group in config.groups {
                await commit(group.name) { fsm, now in fsm.restart(at: now, reason: "after taking over as the leader") }
            }
        } else if !snapshot.canAct && acting {
            stepDown(snapshot.whyNot ?? "not the leader")
        }
    }

    /// Stops acting: running steps and hooks are cancelled (the new leader resumes them).
    private func stepDown(_ why: String) {
        guard acting else { return }
        acting = false
        let running = tasks
        tasks = [:]
        for task in running.values { task.cancel() }
        logger.critical(
            "this controller stops acting at once (\(why)); \(running.count) running steps or hooks cancelled, the leader resumes them")
    }

    /// Takes the ledger's states (and their revisions) as the machines' and mirrors them into
    /// the event log. A group the ledger does not hold (a new etcd, a new prefix) keeps the
    /// state of the local event log, epoch and primary included: the first change writes it.
    private func adopt(_ entries: [String: LedgerEntry]) {
        for group in config.groups {
            guard let entry = entries[group.name] else {
                revisions[group.name] = 0
                continue
            }
            guard revisions[group.name] != entry.revision || machines[group.name] == nil else { continue }
            let state = checked(entry.state, group)
            machines[group.name] = GroupFSM(config: group, state: state)
            revisions[group.name] = entry.revision
            do {
                lastIncidents[group.name] = state.lastIncident.flatMap { try? store.incident(id: $0) }
                if let last = lastIncidents[group.name], last.result == .succeeded { metrics?.recordLastMeasures(of: last) }
                try store.saveGroupState(group.name, state, at: wallClock.now())
            } catch {
                logger.error("group \(group.name): cannot mirror the shared state into the event log: \(error)")
            }
        }
    }

    /// A stored state made fit for the current configuration: a primary that is no longer a
    /// site of the group is reset (epoch and history kept), and a plan that no longer has the
    /// stored run's step leaves that run stuck for a human, never out of range.
    private func checked(_ stored: GroupState, _ group: GroupConfig) -> GroupState {
        var state = stored
        if !group.sites.contains(state.primary) {
            logger.critical(
                "group \(group.name): stored primary \(state.primary) is no longer one of its sites; taking \(group.primary) (epoch \(state.epoch) kept)",
                metadata: ["group": "\(group.name)"])
            state.primary = group.primary
            state.run = nil
        }
        if var run = state.run, run.step >= group.plan.count {
            logger.critical(
                "group \(group.name): the stored run is at step \(run.step + 1) but the plan now has \(group.plan.count) steps; it is stuck until a human acts",
                metadata: ["group": "\(group.name)"])
            run.step = group.plan.count - 1
            run.phase = .stuck
            run.incident?.error = "the plan changed while this run was stored; resume re-runs its last step, or fail over again"
            state.run = run
        }
        return state
    }

    /// Takes in a fresh snapshot: every group may start (or hold) a failover.
    func update(_ snapshot: WorldSnapshot) async {
        guard started else { return }
        await follow(snapshot)
        // With a ledger only a controller that took over the shared states decides.
        if ledger != nil && !acting { return }
        var changed = false
        for name in config.groups.map(\.name) {
            await lock(name)
            defer { unlock(name) }
            guard var fsm = machines[name] else { continue }
            let effects = fsm.observe(snapshot)
            guard !effects.isEmpty || fsm != machines[name] else { continue }
            // Not recorded: the machine stays as it was and judges the next snapshot again.
            try? await apply(name, fsm, effects)
            changed = true
        }
        if changed { await publishStatus() }
    }

    /// Re-judges the groups whose decision depends on time (cooldown, failback) on a fresh
    /// snapshot; nothing when none does. A follower (ledger mode) re-reads the shared states.
    func tick() async {
        guard started else { return }
        if let ledger {
            let snapshot = await board.snapshot()
            if !acting && !snapshot.canAct, let entries = try? await ledger.loadGroups(), !acting, !takingOver {
                adopt(entries)
                await publishStatus()
            }
            guard acting || snapshot.canAct else { return }
            return await update(snapshot)
        }
        guard machines.values.contains(where: \.waitsForTime) else { return }
        await update(await board.snapshot())
    }

    /// Runs a human's command on `group`; returns the group's status after it.
    func command(_ command: GroupCommand, group name: String) async throws(CommandError) -> GroupStatus {
        // The snapshot first: the machine is read after the last suspension point.
        let snapshot = await board.snapshot()
        guard started, machines[name] != nil else { throw .unknownGroup(name) }
        if ledger != nil && !acting && snapshot.canAct {
            throw .refused("this controller is taking over as the leader; try again in a moment")
        }
        await lock(name)
        defer { unlock(name) }
        guard var fsm = machines[name] else { throw .unknownGroup(name) }
        let effects: [GroupEffect]
        do {
            effects = try fsm.handle(command, snapshot: snapshot)
        } catch {
            throw .refused(error.description)
        }
        do {
            try await apply(name, fsm, effects)
        } catch {
            throw .refused("the controller cannot record it, so nothing was done: \(error)")
        }
        await publishStatus()
        return status(name)!
    }

    /// The status of every group.
    func statuses() -> [GroupStatus] { config.groups.compactMap { status($0.name) } }

    /// The status of `group`, nil when unknown.
    func status(_ name: String) -> GroupStatus? {
        machines[name].map { GroupStatus($0, last: lastIncidents[name]) }
    }

    /// A copy of the machine of `group`, for previews.
    func machine(_ name: String) -> GroupFSM? { machines[name] }

    /// Cancels running steps and hooks (their plan resumes at that step after a restart)
    /// and waits for them to end.
    func shutdown() async {
        let running = tasks
        tasks = [:]
        for task in running.values { task.cancel() }
        for task in running.values { await task.value }
    }

    private func publishStatus() async {
        await board.setGroupStatuses(statuses())
    }

    /// Waits until no other change of `group` is being recorded, then claims it.
    private func lock(_ group: String) async {
        while busy.contains(group) {
            await withCheckedContinuation { waiting[group, default: []].append($0) }
        }
        busy.insert(group)
    }

    private func unlock(_ group: String) {
        busy.remove(group)
        if let next = waiting[group]?.first {
            waiting[group]?.removeFirst()
            next.resume()
        }
    }

    /// Records the effects' events, incidents and `fsm`'s state in one transaction (after the
    /// ledger's guarded transaction, with one); only then does the machine take the new state
    /// and the hook or step they ask for start. On a failed write nothing changes and the
    /// error is logged and thrown. The caller holds the group's lock.
    private func apply(_ name: String, _ fsm: GroupFSM, _ effects: [GroupEffect], resumeIfStale: Bool = true) async throws {
        let at = wallClock.now()
        var events: [Event] = []
        var incidents: [Incident] = []
        for effect in effects {
            switch effect {
            case .event(let e): events.append(event(e, group: name, at: at))
            case .saveIncident(let incident): incidents.append(incident)
            case .runHook, .runStep: break
            }
        }
        if let ledger {
            do {
                revisions[name] = try await ledger.commitGroup(
                    name, state: fsm.state, incidents: incidents, expected: revisions[name] ?? 0)
            } catch {
                logger.critical(
                    "group \(name): the shared state was not changed, so it does not act on this: \(error)", metadata: ["group": "\(name)"])
                switch error {
                case .notLeader: stepDown("\(error)")
                case .stale(let entry):
                    try await adoptStale(name, entry, resume: resumeIfStale)
                case .failed: break
                }
                throw error
            }
            // Leadership lost while the change was written: the next leader carries on.
            guard acting else { return }
        }
        do {
            try store.recordGroupChange(group: name, state: fsm.state, events: events, incidents: incidents, at: at)
        } catch {
            logger.critical(
                "group \(name): cannot record its state, so it does not act: \(error)", metadata: ["group": "\(name)"])
            // With a ledger the change is made: acting on it keeps the shared state true.
            if ledger == nil { throw error }
        }
        machines[name] = fsm
        let before = lastIncidents[name]
        for incident in incidents where incident.result == .succeeded {
            // Counted once: the transition into succeeded, not a later save of the same incident.
            if before?.id != incident.id || before?.result != .succeeded { metrics?.recordSucceeded(incident) }
        }
        if let last = incidents.last { lastIncidents[name] = last }
        for event in events { log(event) }
        let launchedIn = term
        for effect in effects {
            switch effect {
            case .runHook(let context): launch(name) { await self.hook(context, term: launchedIn) }
            case .runStep(let context, let index): launch(name) { await self.step(context, index: index, term: launchedIn) }
            case .event, .saveIncident: break
            }
        }
    }

    /// The ledger holds a newer state than this machine (a write of ours whose answer was
    /// lost, or a state changed behind our back): take it, and, while leading, resume what
    /// it says is running, so a plan never waits for a step no one runs.
    private func adoptStale(_ name: String, _ entry: LedgerEntry?, resume: Bool) async throws {
        guard let group = config.group(named: name) else { return }
        guard let entry else {
            revisions[name] = 0  // the key is gone: the next write creates it
            return
        }
        var fsm = GroupFSM(config: group, state: checked(entry.state, group))
        machines[name] = fsm
        revisions[name] = entry.revision
        guard resume, acting else { return }
        let effects = fsm.restart(at: wallClock.now(), reason: "after re-reading the shared state")
        if !effects.isEmpty { try await apply(name, fsm, effects, resumeIfStale: false) }
    }

    /// Applies `input` to the current machine until its result is recorded: a step's or a
    /// hook's result must not be lost to a passing write error, so it is tried again every
    /// second (on the machine as it is then) until it is recorded or the task is cancelled.
    /// With a ledger, a result that this controller may no longer record (it lost the
    /// leadership) is dropped: the leader re-runs that step.
    private func commit(
        _ name: String, term launchedIn: Int? = nil, _ input: (inout GroupFSM, Timestamp) -> [GroupEffect]
    ) async {
        var wait = Duration.seconds(1)
        while !Task.isCancelled {
            await lock(name)
            // A result from an earlier leadership term, or after losing it, is not recorded.
            if ledger != nil && (!acting || launchedIn.map({ $0 != term }) == true) { return unlock(name) }
            guard var fsm = machines[name] else { return unlock(name) }
            let effects = input(&fsm, wallClock.now())
            if effects.isEmpty && fsm == machines[name] { return unlock(name) }
            do {
                try await apply(name, fsm, effects)
                return unlock(name)
            } catch {
                unlock(name)
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(30))
            }
        }
    }

    private func event(_ e: GroupEvent, group: String, at: Timestamp) -> Event {
        var details = e.details
        details["message"] = .string(e.message)
        return Event(
            at: at, controller: config.id, group: group, site: e.site, epoch: e.epoch, kind: e.kind,
            details: .object(details))
    }

    private func log(_ event: Event) {
        let message = event.details["message"]?.stringValue ?? event.kind.rawValue
        var metadata: Logger.Metadata = ["group": "\(event.group ?? "")", "epoch": "\(event.epoch ?? 0)"]
        if let site = event.site { metadata["site"] = "\(site)" }
        switch event.kind {
        case .failoverStuck, .noEligibleTarget: logger.critical("\(message)", metadata: metadata)
        case .failoverNeeded, .failoverVetoed, .failoverHeld: logger.warning("\(message)", metadata: metadata)
        default: logger.notice("\(message)", metadata: metadata)
        }
    }

    /// Starts `work` for `group`; a task still held for the group (it cannot be running
    /// anything the new work does not replace) is cancelled first.
    private func launch(_ group: String, _ work: @escaping @Sendable () async -> Void) {
        tasks[group]?.cancel()
        tasks[group] = Task { await work() }
    }

    /// Whether a step or hook launched in `launchedIn` may act now: always without a ledger;
    /// with one, only in the same leadership term and while the lease is certainly alive.
    private func mayAct(term launchedIn: Int) async -> Bool {
        guard let ledger else { return true }
        guard acting, term == launchedIn else { return false }
        return await ledger.mayAct()
    }

    /// Whether `fsm` is still in the run `context` belongs to.
    private static func runs(_ fsm: GroupFSM, _ context: RunContext) -> Bool {
        guard let run = fsm.state.run else { return false }
        return run.incidentID(group: context.group) == context.incident && run.epoch == context.epoch
    }

    private func hook(_ context: RunContext, term launchedIn: Int) async {
        guard let group = config.group(named: context.group), await mayAct(term: launchedIn) else { return }
        let result: HookResult
        do {
            result = try await hooks.runHook(command: group.preHook, context: context, timeout: group.hookTimeout)
        } catch {
            return  // cancelled: asked again after a restart
        }
        await commit(context.group, term: launchedIn) { fsm, now in
            Self.runs(fsm, context) ? fsm.hookFinished(allowed: result.allowed, detail: result.detail, at: now) : []
        }
        await publishStatus()
    }

    private func step(_ context: RunContext, index: Int, term launchedIn: Int) async {
        guard let group = config.group(named: context.group) else { return }
        let step = Plan.resolve(group, sites: config.sites, from: context.from, to: context.to)[index]
        let outcome: StepOutcome
        do {
            outcome = try await runner.run(step, context: context) { await self.mayAct(term: launchedIn) }
        } catch {
            // Cancelled at shutdown or on losing the leadership: the stored plan resumes at
            // this step.
            if ledger != nil, !(await mayAct(term: launchedIn)) {
                logger.warning(
                    "group \(context.group): step \(index + 1) (\(step.summary)) not run or not finished by this controller: it may no longer act",
                    metadata: ["group": "\(context.group)"])
            }
            return
        }
        // The result belongs to this run only (not to a later run at the same step index).
        await commit(context.group, term: launchedIn) { fsm, now in
            Self.runs(fsm, context) ? fsm.stepFinished(outcome, at: now) : []
        }
        await publishStatus()
    }
}

/// Why a command was not carried out.
enum CommandError: Error, Sendable {
    /// No group has that name.
    case unknownGroup(String)
    /// The group refused it (busy, paused, target not eligible...).
    case refused(String)
}
