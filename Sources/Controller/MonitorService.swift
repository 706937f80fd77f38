import FailoverCore
import ServiceLifecycle

/// Runs one `SiteMonitor` per site plus the periodic status flush, until graceful shutdown.
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
                for (index, site) in sites.enumerated() {
                    let monitor = SiteMonitor(
                        site: site, prober: prober, clock: clock, wallClock: wallClock, board: board,
                        startOffset: Self.offset(index: index, count: sites.count, interval: site.interval))
                    group.addTask { await monitor.run() }
                }
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

    /// Spreads first rounds evenly over the interval, so many sites do not
    /// probe in one burst every second.
    static func offset(index: Int, count: Int, interval: Duration) -> Duration {
        guard count > 1 else { return .zero }
        return interval * Double(index) / Double(count)
    }
}
