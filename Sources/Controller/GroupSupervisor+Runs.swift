import Actions
import Coordination
import EventLog
import FailoverCore
import Logging

/// The hooks and steps the machines ask for: launched as tasks, allowed to act only in
/// their leadership term, their results recorded for their own run only; and the events and
/// log lines of changes.
extension GroupSupervisor {
    func event(_ e: GroupEvent, group: String, at: Timestamp) -> Event {
        var details = e.details
        details["message"] = .string(e.message)
        return Event(
            at: at, controller: config.id, group: group, site: e.site, epoch: e.epoch, kind: e.kind,
            details: .object(details))
    }

    func log(_ event: Event) {
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
    func launch(_ group: String, _ work: @escaping @Sendable () async -> Void) {
        tasks[group]?.cancel()
        tasks[group] = Task { await work() }
    }

    /// Whether a step or hook launched in `launchedIn` may act now: always without a ledger;
    /// with one, only in the same leadership term and while the lease is certainly alive.
    func mayAct(term launchedIn: Int) async -> Bool {
        guard let ledger else { return true }
        guard acting, term == launchedIn else { return false }
        return await ledger.mayAct()
    }

    /// Whether `fsm` is still in the run `context` belongs to.
    static func runs(_ fsm: GroupFSM, _ context: RunContext) -> Bool {
        guard let run = fsm.state.run else { return false }
        return run.incidentID(group: context.group) == context.incident && run.epoch == context.epoch
    }

    func hook(_ context: RunContext, term launchedIn: Int) async {
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

    func step(_ context: RunContext, index: Int, term launchedIn: Int) async {
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
