extension GroupFSM {
    /// Takes in a human's command, judged on `snapshot`.
    ///
    /// - Throws: `GroupRefusal` naming what stands in the way; the state is then unchanged.
    public mutating func handle(_ command: GroupCommand, snapshot: WorldSnapshot) throws(GroupRefusal) -> [GroupEffect] {
        switch command {
        case .pause: return pause()
        case .resume: return resume(snapshot)
        case .failover(let to, let force): return try failover(to: to, force: force, snapshot: snapshot)
        case .drill(let to, let failback): return try drill(to: to, failback: failback, snapshot: snapshot)
        }
    }

    // any ➜ paused: actions stop (a running step finishes; the plan waits before the next)
    private mutating func pause() -> [GroupEffect] {
        guard !state.paused else { return [] }
        state.paused = true
        let message = "\(config.name) paused: probes go on, no failover will be started or continued until resume"
        return [.event(GroupEvent(kind: .groupPaused, epoch: state.epoch, message: message))]
    }

    // paused ➜ steady, suspended/stuck ➜ running: act again, continuing the stored plan
    private mutating func resume(_ snapshot: WorldSnapshot) -> [GroupEffect] {
        var effects: [GroupEffect] = []
        if state.paused {
            state.paused = false
            effects.append(.event(GroupEvent(kind: .groupResumed, epoch: state.epoch, message: "\(config.name) resumed")))
        }
        if var run = state.run, run.phase == .suspended || run.phase == .stuck {
            if run.phase == .stuck, var incident = run.incident {
                incident.result = .running
                incident.endedAt = nil
                incident.error = nil
                run.incident = incident
                effects.append(.saveIncident(incident))
            }
            let message = "resuming \(run.incidentID(group: config.name)) of \(config.name) at step \(run.step + 1) of \(config.plan.count) (\(config.plan[run.step].kind.rawValue))"
            run.phase = .running
            state.run = run
            effects.append(.event(GroupEvent(kind: .planResumed, site: run.to, epoch: run.epoch, message: message, details: ["step": .number(Double(run.step))])))
            effects.append(.runStep(context(run), index: run.step))
            return effects
        }
        // A hold reported while paused is reported again if it still applies.
        state.hold = nil
        return effects + observe(snapshot)
    }

    // steady/stuck ➜ running: a human moves the primary to `to`
    private mutating func failover(to: String, force: Bool, snapshot: WorldSnapshot) throws(GroupRefusal) -> [GroupEffect] {
        try refuseUnlessReady(snapshot, allowStuck: true)
        try checkTarget(to, snapshot: snapshot, force: force)
        var effects: [GroupEffect] = []
        if let stuck = state.run, var incident = stuck.incident {
            // stuck ➜ failed: superseded by the human's failover
            incident.result = .failed
            incident.endedAt = snapshot.at
            incident.error = (incident.error.map { $0 + "; " } ?? "") + "superseded by a manual failover to \(to)"
            effects.append(.saveIncident(incident))
            state.run = nil
        }
        let primary = snapshot.site(state.primary)
        var run = newRun(.manual, to: to, automatic: false, planned: primary.verdict != .down, force: force)
        if !run.planned {
            run.lastOK = primary.lastOK
            run.firstFail = primary.firstFail
            run.detected = primary.since
        }
        let why = "requested by a human\(force ? " (forced)" : "") while \(state.primary) is \(primary.verdict.rawValue)"
        return effects + start(run, at: snapshot.at, why: why, election: nil)
    }

    // steady ➜ running (drill): a planned switchover to `to` or the elected standby
    private mutating func drill(to: String?, failback: Bool, snapshot: WorldSnapshot) throws(GroupRefusal) -> [GroupEffect] {
        try refuseUnlessReady(snapshot, allowStuck: false)
        let primary = snapshot.site(state.primary)
        guard primary.verdict == .up else {
            throw GroupRefusal("a planned drill needs a healthy primary; \(state.primary) is \(primary.verdict.rawValue) (use failoverctl failover)")
        }
        if failback, config.promotesDatabase, !config.plan.contains(where: { $0.kind == .rejoin }) {
            throw GroupRefusal(
                "a drill with --failback returns to \(state.primary) only once its database is a replica again, and \(config.name)'s plan has no rejoin step: add rejoin after verify, or drill without --failback and rejoin \(state.primary) with failoverctl rejoin")
        }
        let target: String
        if let to {
            try checkTarget(to, snapshot: snapshot, force: false)
            target = to
        } else {
            let election = Election.elect(config, from: state.primary, in: snapshot)
            guard let elected = election.target else {
                throw GroupRefusal("no standby of \(config.name) is eligible for a drill (\(election.summary))")
            }
            target = elected
        }
        var run = newRun(.drill, to: target, automatic: false, planned: true)
        run.thenFailback = failback
        let why = "planned drill requested by a human\(failback ? ", returning to \(state.primary) afterwards" : "")"
        return start(run, at: snapshot.at, why: why, election: nil)
    }

    private func refuseUnlessReady(_ snapshot: WorldSnapshot, allowStuck: Bool) throws(GroupRefusal) {
        guard snapshot.canAct else {
            throw GroupRefusal("this controller may not act: \(snapshot.whyNot ?? "it is not the quorate leader")")
        }
        guard !state.paused else { throw GroupRefusal("\(config.name) is paused; run failoverctl resume --group \(config.name) first") }
        if let run = state.run, !(allowStuck && run.phase == .stuck) {
            throw GroupRefusal("\(config.name) is busy: \(run.incidentID(group: config.name)) (\(run.kind.rawValue) \(run.from) → \(run.to)) is \(run.phase.rawValue)")
        }
    }

    private func checkTarget(_ to: String, snapshot: WorldSnapshot, force: Bool) throws(GroupRefusal) {
        guard config.sites.contains(to) else {
            throw GroupRefusal("\(to) is not a site of \(config.name) (its sites: \(config.sites.joined(separator: ", ")))")
        }
        guard to != state.primary else { throw GroupRefusal("\(to) is already the primary of \(config.name)") }
        let candidate = Election.candidate(to, group: config, snapshot: snapshot, force: force, primary: state.primary)
        if let why = candidate.ineligible {
            throw GroupRefusal("\(to) is not eligible: \(why) (--force overrides, at your risk)")
        }
    }
}
