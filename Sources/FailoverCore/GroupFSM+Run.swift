extension GroupFSM {
    /// Starts `run`: through the pre hook when the group has one, else decided at once.
    mutating func start(_ run: GroupRun, at now: Timestamp, why: String, election: ElectionResult?) -> [GroupEffect] {
        var run = run
        run.phase = .awaitingHook
        run.why = why
        state.run = run
        state.hold = nil
        guard !config.preHook.isEmpty else { return decide(at: now, why: why, election: election) }
        let message = "asking the pre hook before \(verb(run)) \(config.name) from \(run.from) to \(run.to): \(why)"
        return [
            .event(GroupEvent(kind: .hookStarted, site: run.to, epoch: state.epoch, message: message, details: ["why": .string(why)])),
            .runHook(context(run)),
        ]
    }

    /// Takes in the pre hook's answer.
    public mutating func hookFinished(allowed: Bool, detail: String, at now: Timestamp) -> [GroupEffect] {
        guard let run = state.run, run.phase == .awaitingHook else { return [] }
        guard allowed else {
            // awaiting hook ➜ steady: vetoed, held for the rest of this down episode
            state.run = nil
            if !run.planned { state.hold = Hold(reason: .vetoed, episode: run.detected) }
            if run.kind == .failback { state.failbackVetoed = run.homeSince }
            let message = "the pre hook vetoed \(verb(run)) \(config.name) from \(run.from) to \(run.to): \(detail)"
            return [.event(GroupEvent(kind: .failoverVetoed, site: run.to, epoch: state.epoch, message: message, details: ["kind": .string(run.kind.rawValue), "detail": .string(detail)]))]
        }
        guard !state.paused else {
            // awaiting hook ➜ paused: the group was paused while the hook ran
            state.run = nil
            let message = "not \(verb(run)) \(config.name) from \(run.from) to \(run.to): the group was paused"
            return [.event(GroupEvent(kind: .failoverHeld, site: run.to, epoch: state.epoch, message: message, details: ["reason": .string("paused")]))]
        }
        // awaiting hook ➜ running: the hook allowed it
        return decide(at: now, why: "\(run.why); the pre hook allowed it", election: nil)
    }

    // awaiting hook ➜ running step 0: the decision; the epoch increases here
    private mutating func decide(at now: Timestamp, why: String, election: ElectionResult?) -> [GroupEffect] {
        guard var run = state.run else { return [] }
        state.epoch = run.epoch
        run.phase = .running
        run.step = 0
        var incident = Incident(
            id: run.incidentID(group: config.name), group: config.name, kind: run.kind, planned: run.planned,
            from: run.from, to: run.to, epoch: run.epoch, decided: now, rtoTarget: config.rto, rpoTarget: config.rpo)
        incident.lastOK = run.lastOK
        incident.firstFail = run.firstFail
        incident.detected = run.detected
        run.incident = incident
        state.run = run
        state.lastIncident = incident.id
        var details: [String: JSONValue] = [
            "incident": .string(incident.id), "kind": .string(run.kind.rawValue), "from": .string(run.from),
            "to": .string(run.to), "why": .string(why), "force": .bool(run.force),
        ]
        if let election { details["candidates"] = Self.json(election.candidates) }
        let message = "\(verb(run)) \(config.name) from \(run.from) to \(run.to): \(why)"
        return [
            .event(GroupEvent(kind: .failoverStarted, site: run.to, epoch: run.epoch, message: message, details: details)),
            .saveIncident(incident), .runStep(context(run), index: 0),
        ]
    }

    /// Takes in a finished step (after all its attempts).
    public mutating func stepFinished(_ outcome: StepOutcome, at now: Timestamp) -> [GroupEffect] {
        guard var run = state.run, run.phase == .running, run.step == outcome.record.index,
            var incident = run.incident
        else { return [] }
        record(outcome, in: &incident)
        run.incident = incident
        state.run = run
        let step = config.plan[outcome.record.index]
        if outcome.record.result == .failed, step.onFailure == .abort {
            return stuck(run, incident, step: outcome.record, at: now)
        }
        // running step i ➜ running step i+1: the step succeeded, was skipped, or failed with `continue`
        return advance(at: now)
    }

    /// Puts a step's record and measurements into the incident.
    private func record(_ outcome: StepOutcome, in incident: inout Incident) {
        incident.steps.removeAll { $0.index == outcome.record.index }
        incident.steps.append(outcome.record)
        if let lag = outcome.lag, config.plan[outcome.record.index].kind == .promote { incident.lag = lag }
        if let ttl = outcome.dnsTTL { incident.dnsTTLMs = ttl.milliseconds }
        let index = outcome.record.index
        let verify = config.verifyIndex
        if outcome.record.result != .skipped, index < (verify ?? Int.max), config.plan[index].kind != .verify {
            incident.actuated = outcome.record.endedAt
        }
        if index == verify, outcome.record.result == .ok {
            incident.restored = outcome.restoredAt ?? outcome.record.endedAt
        }
    }

    /// Runs the next step, or finishes the run; holds between steps while paused.
    mutating func advance(at now: Timestamp) -> [GroupEffect] {
        guard var run = state.run else { return [] }
        run.step += 1
        guard run.step < config.plan.count else { return complete(at: now) }
        if state.paused {
            // running ➜ suspended: paused between steps
            run.phase = .suspended
            state.run = run
            let message = "\(config.name): plan of \(run.incidentID(group: config.name)) suspended before step \(run.step + 1) of \(config.plan.count): the group is paused"
            return [.event(GroupEvent(kind: .planSuspended, site: run.to, epoch: run.epoch, message: message, details: ["step": .number(Double(run.step))]))]
        }
        run.phase = .running
        state.run = run
        return [.runStep(context(run), index: run.step)]
    }

    // running ➜ stuck: a step failed every attempt with `on_failure: abort`
    private mutating func stuck(_ run: GroupRun, _ incident: Incident, step: StepRecord, at now: Timestamp) -> [GroupEffect] {
        var run = run
        var incident = incident
        run.phase = .stuck
        incident.result = .stuck
        incident.endedAt = now
        incident.error = "step \(step.index + 1) (\(step.kind.rawValue)) failed: \(step.error ?? "no detail")"
        run.incident = incident
        state.run = run
        let message = "\(verb(run)) \(config.name) from \(run.from) to \(run.to) is stuck: \(incident.error!); \(run.from) is still the primary (fix it, then failoverctl resume --group \(config.name))"
        return [
            .saveIncident(incident),
            .event(GroupEvent(kind: .failoverStuck, site: run.to, epoch: run.epoch, message: message, details: ["incident": .string(incident.id), "step": .number(Double(step.index)), "error": .string(step.error ?? "")])),
        ]
    }

    // running ➜ steady (new primary): the last step finished
    private mutating func complete(at now: Timestamp) -> [GroupEffect] {
        guard let run = state.run, var incident = run.incident else { return [] }
        incident.result = .succeeded
        incident.endedAt = now
        state.primary = run.to
        state.run = nil
        if run.automatic { state.lastAutomaticAt = now }
        let measures = incident.measures
        let rto = measures.rtoMs.map { "RTO \(Duration.milliseconds($0).text)" } ?? "RTO not measured (no verify step)"
        let message = "\(config.name) \(verb(run, past: true)) from \(run.from) to \(run.to): \(rto)"
        var effects: [GroupEffect] = [
            .saveIncident(incident),
            .event(GroupEvent(kind: .failoverSucceeded, site: run.to, epoch: run.epoch, message: message, details: [
                "incident": .string(incident.id), "kind": .string(run.kind.rawValue), "from": .string(run.from),
                "to": .string(run.to), "measures": Self.json(measures),
            ])),
        ]
        // The way back is judged on the next snapshot (pause, the origin's health).
        if run.thenFailback {
            state.pendingReturn = run.from
            state.pendingReturnSince = now
        }
        return effects
    }

    /// After a controller restart: re-issues the step (or hook) the stored run was at.
    /// Steps are idempotent, so running one again is safe.
    public mutating func restart(at now: Timestamp, reason: String = "after a controller restart") -> [GroupEffect] {
        guard let run = state.run else { return [] }
        switch run.phase {
        case .awaitingHook:
            return [.runHook(context(run))]
        case .running where state.paused:
            // A paused group's plan waits: resume continues it.
            var suspended = run
            suspended.phase = .suspended
            state.run = suspended
            return []
        case .running:
            let message = "resuming \(run.incidentID(group: config.name)) of \(config.name) at step \(run.step + 1) of \(config.plan.count) \(reason)"
            return [
                .event(GroupEvent(kind: .planResumed, site: run.to, epoch: run.epoch, message: message, details: ["step": .number(Double(run.step))])),
                .runStep(context(run), index: run.step),
            ]
        case .suspended, .stuck:
            return []
        }
    }

    /// The context steps and hooks of `run` get.
    func context(_ run: GroupRun) -> RunContext {
        RunContext(
            group: config.name, incident: run.incidentID(group: config.name), kind: run.kind, from: run.from, to: run.to,
            epoch: run.epoch, force: run.force)
    }

    /// `failing over`, `switching over` (drill), `failing back`.
    func verb(_ run: GroupRun, past: Bool = false) -> String {
        switch run.kind {
        case .failover, .manual: past ? "failed over" : "failing over"
        case .drill: past ? "switched over (drill)" : "switching over (drill)"
        case .failback: past ? "failed back" : "failing back"
        }
    }
}
