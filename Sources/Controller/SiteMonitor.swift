import FailoverCore

/// Probes one site on its schedule and feeds each round to the site's debounce FSM.
///
/// The FSM decides; this loop only performs effects: it runs the checks concurrently,
/// reads the wall clock for the round's timestamp and hands the round, the FSM's new state
/// and its effects to the `StatusBoard`. Time comes from an injected clock, so tests drive
/// rounds with a manual clock instead of sleeping.
struct SiteMonitor<C: Clock>: Sendable where C.Duration == Duration {
    let site: SiteConfig
    let prober: any Prober
    let clock: C
    let wallClock: any WallClock
    let board: StatusBoard
    /// Delay of the first round, to spread sites over the interval.
    let startOffset: Duration

    /// Runs rounds until the task is cancelled.
    func run() async {
        var fsm = SiteFSM(thresholds: site.thresholds)
        var deadline = clock.now.advanced(by: startOffset)
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return
            }
            let lateness = deadline.duration(to: clock.now)
            let at = wallClock.now()
            let round = await probeRound(at: at)
            guard !Task.isCancelled else { return }
            let effects = fsm.observe(round.outcome(require: site.require), at: at)
            await board.roundFinished(site: site.name, round: round, fsm: fsm, effects: effects, lateness: lateness)
            deadline = nextDeadline(after: deadline)
        }
    }

    /// The next round's deadline; rounds missed while the process was stalled are skipped
    /// rather than run in a burst.
    private func nextDeadline(after deadline: C.Instant) -> C.Instant {
        var next = deadline.advanced(by: site.interval)
        let now = clock.now
        if next < now {
            let behind = next.duration(to: now)
            let missed = Int(behind.milliseconds / max(site.interval.milliseconds, 1)) + 1
            next = next.advanced(by: site.interval * missed)
        }
        return next
    }

    /// Probes every check of the site at once; results come back in the checks' order.
    func probeRound(at: Timestamp) async -> ProbeRound {
        let results = await withTaskGroup(of: (Int, ProbeResult).self) { group in
            for (index, check) in site.checks.enumerated() {
                let timeout = check.timeout ?? site.timeout
                group.addTask { (index, await prober.probe(check, timeout: timeout, at: at)) }
            }
            var results = [ProbeResult?](repeating: nil, count: site.checks.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
        return ProbeRound(at: at, results: results)
    }
}
