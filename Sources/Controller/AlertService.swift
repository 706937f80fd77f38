import Alerting
import EventLog
import FailoverCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Delivers the alert outbox: a pass whenever new alerts are committed, and when the
/// earliest retry is due (at least once a minute), until graceful shutdown. What is not
/// delivered stays in the outbox for the next process.
struct AlertService: Service, CustomStringConvertible {
    let sender: AlertSender
    let wakeup: Wakeup
    let wallClock: any WallClock
    let logger: Logger

    var description: String { "AlertService" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var wait = Duration.seconds(60)
                do {
                    let now = wallClock.now()
                    let pass = try await sender.deliverDue(now: now)
                    if pass.failed > 0 { logger.error("\(pass.failed) alert(s) refused by their receiver; see failoverctl status") }
                    if let due = pass.nextDue { wait = min(wait, max(due.since(now), .milliseconds(10))) }
                } catch {
                    logger.error("cannot read the alert outbox: \(error)")
                    wait = .seconds(5)
                }
                await wakeup.wait(upTo: wait)
            }
        }
    }
}

/// A wake-up call that is not lost: a `kick` before `wait` makes the next `wait` return at once.
final class Wakeup: Sendable {
    private struct State {
        var kicked = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Wakes the waiter, or the next one.
    func kick() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.kicked = true
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after a kick, after `limit`, or when the task is cancelled.
    func wait(upTo limit: Duration) async {
        let timer = Task { [weak self] in
            // Only a sleep that ran out kicks: a cancelled timer must not wake the next wait.
            do {
                try await Task.sleep(for: limit)
                self?.kick()
            } catch {}
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.kicked || Task.isCancelled {
                        s.kicked = false
                        return true
                    }
                    s.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            kick()
        }
        state.withLock { $0.kicked = false }
    }
}

/// The event log's outbox table as the sender's `AlertOutbox`.
struct StoreOutbox: AlertOutbox {
    let store: EventStore

    func pending() throws -> [QueuedAlert] {
        try store.pendingAlerts().compactMap { item in
            guard let alert = try? JSONDecoder().decode(Alert.self, from: Data(item.entry.body.utf8)) else { return nil }
            return QueuedAlert(
                id: item.id, sink: item.entry.sink, key: item.entry.key, alert: alert, attempts: item.attempts,
                nextAt: item.nextAt)
        }
    }

    func delivered(_ id: Int64, attempts: Int, at: Timestamp) throws {
        try store.recordAlertDelivered(id, attempts: attempts, at: at)
    }

    func retry(_ id: Int64, attempts: Int, next: Timestamp, error: String) throws {
        try store.recordAlertRetry(id, attempts: attempts, next: next, error: error)
    }

    func failed(_ id: Int64, attempts: Int, at: Timestamp, error: String) throws {
        try store.recordAlertFailed(id, attempts: attempts, at: at, error: error)
    }

    /// The hooks that queue each event's alerts for every sink that takes them.
    static func hooks(_ config: AlertConfig, wakeup: Wakeup) -> OutboxHooks {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return OutboxHooks(
            route: { event in
                AlertRules.alerts(for: event).flatMap { alert in
                    let body = (try? encoder.encode(alert)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                    return config.sinks.filter { $0.accepts(alert) }.map { sink in
                        OutboxEntry(sink: sink.name, key: alert.key, kind: alert.kind.rawValue, body: body)
                    }
                }
            },
            committed: { wakeup.kick() })
    }
}
