import Actions
import FailoverCore

/// The `verify` step: probes the target site's checks, one round per site interval, until
/// a round passes under the site's `require`; its time is the incident's `restored`.
///
/// Idempotent (it only probes) and bounded by the step's timeout: it keeps probing until
/// the runner cancels it at the deadline, which the runner reports as a timeout.
struct VerifyAction: ActionPlugin {
    let sites: [SiteConfig]
    let prober: any Prober
    let clock: any Clock<Duration>
    let wallClock: any WallClock

    func perform(_ request: ActionRequest) async throws -> ActionReport {
        guard case .verify(let name) = request.step.action, let site = sites.first(where: { $0.name == name }) else {
            throw ActionError.permanent("verify: no site to verify in \(request.step.summary)")
        }
        var rounds = 0
        while true {
            try Task.checkCancellation()
            let round = await RoundScheduler<ContinuousClock>.probeRound(site, prober: prober, at: wallClock.now())
            rounds += 1
            if round.outcome(require: site.require) == .pass {
                let checks = round.results.count
                return ActionReport(
                    changed: ["\(name) passed all \(checks) check\(checks == 1 ? "" : "s") in round \(rounds) of verification"],
                    restoredAt: round.at)
            }
            // Rounds keep the site's interval, whatever a round took.
            let elapsed = wallClock.now().since(round.at)
            if elapsed < site.interval { try await clock.sleep(for: site.interval - elapsed) }
        }
    }
}
