import FailoverCore
import ServiceLifecycle

/// Runs the `RoundScheduler` plus the periodic status flush, until graceful shutdown.
struct MonitorService<C: Clock>: Service where C.Duration == Duration {
    let scheduler: RoundScheduler<C>
    let flushInterval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await scheduler.run() }
                group.addTask { await flushLoop() }
            }
        }
    }

    private func flushLoop() async {
        while !Task.isCancelled {
            do { try await scheduler.clock.sleep(for: flushInterval) } catch { return }
            await scheduler.board.flush()
            // Checkpoints run here, off the write path (see EventStore's backgroundCheckpoints).
            do {
                try scheduler.board.store.checkpoint()
            } catch {
                scheduler.board.logger.warning("cannot checkpoint the event log: \(error)")
            }
        }
    }
}

extension MonitorService: CustomStringConvertible {
    /// What service-lifecycle logs for this service: counts only, never the checks'
    /// URLs or headers, which may carry secrets.
    var description: String { "MonitorService(\(scheduler.sites.count) sites)" }
}
