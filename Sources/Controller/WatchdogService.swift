import FailoverCore
import ServiceLifecycle

/// Tells systemd the controller is ready (once the API serves), pets its watchdog only while
/// probe rounds keep completing, and says `STOPPING=1` on graceful shutdown. A controller
/// whose rounds stall stops petting, so systemd restarts it.
struct WatchdogService<C: Clock>: Service, CustomStringConvertible where C.Duration == Duration {
    let notifier: SystemdNotifier
    let board: StatusBoard
    let clock: C
    /// Whether there are sites whose rounds must progress.
    let expectsRounds: Bool

    var description: String { "WatchdogService" }

    func run() async throws {
        guard notifier.isEnabled, let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            notifier.notify("STOPPING=1")
            return
        }
        await cancelWhenGracefulShutdown {
            var seen = await board.completedRoundCount
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval / 2) } catch { break }
                let now = await board.completedRoundCount
                // No completed round in half a watchdog interval: the probes are stuck.
                if !expectsRounds || now > seen { notifier.notify("WATCHDOG=1") }
                seen = now
            }
        }
        notifier.notify("STOPPING=1")
    }
}
