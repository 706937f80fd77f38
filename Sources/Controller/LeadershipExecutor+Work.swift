import Actions
import FailoverCore
import Logging

/// Hooks and steps: run while the machine permits them, their results fed back; and the
/// events and log lines of recorded changes.
extension LeadershipExecutor {
    /// Whether work `id` may act now (asked before it starts and before every attempt).
    func permits(_ id: Int) -> Bool { machine.permits(work: id, at: clock.now) }

    /// Runs a hook or step to its end and feeds its result to the machine. Cancelled (the
    /// lease, a step-down, shutdown), it feeds nothing: the plan resumes at that step.
    func run(_ work: LeadershipMachine.Work) async {
        guard let group = config.group(named: work.context.group), permits(work.id) else { return finished(work) }
        let permit: @Sendable () async -> Bool = { await self.permits(work.id) }
        let result: LeadershipMachine.WorkResult
        if let index = work.step {
            let step = Plan.resolve(group, sites: config.sites, from: work.context.from, to: work.context.to)[index]
            do {
                result = .step(try await runner.run(step, context: work.context, permit: permit))
            } catch {
                if !permits(work.id) {
                    logger.warning(
                        "group \(group.name): step \(index + 1) (\(step.summary)) not run or not finished by this controller: it may no longer act",
                        metadata: ["group": "\(group.name)", "token": "\(work.context.token)"])
                }
                return finished(work)
            }
        } else {
            do {
                let hook = try await hooks.runHook(command: group.preHook, context: work.context, timeout: group.hookTimeout)
                result = .hook(allowed: hook.allowed, detail: hook.detail)
            } catch {
                return finished(work)  // cancelled: asked again after a restart or by the next leader
            }
        }
        finished(work)
        apply { machine, now, wall in machine.workFinished(work, result, now: now, wall: wall) }
    }

    private func finished(_ work: LeadershipMachine.Work) { tasks[work.id] = nil }

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
}
