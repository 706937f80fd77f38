import FailoverCore
import ServiceLifecycle

/// Runs the `RoundScheduler` plus the periodic status flush, until graceful shutdown.
struct MonitorService<C: Clock>: Service where C.Duration == Duration {
    let sites: [SiteConfig]
    let prober: any Prober
    let clock: C
    let wallClock: any WallClock
    let board: StatusBoard
    let flushInterval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                let scheduler = RoundScheduler(
                    sites: sites, prober: prober, clock: clock, wallClock: wallClock, board: board)
                group.addTask { await scheduler.run() }
                group.addTask { await flushLoop() }
            }
        }
    }

    private func flushLoop() async {
        while !Task.isCancelled {
            do { try await clock.sleep(for: flushInterval) } catch { return }
            await board.flush()
        }
    }
}

extension MonitorService: CustomStringConvertible {
    /// What service-lifecycle logs for this service: counts only, never the checks'
    /// URLs or headers, which may carry secrets.
    var description: String { "MonitorService(\(sites.count) sites)" }
}
