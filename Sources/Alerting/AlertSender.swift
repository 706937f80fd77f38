import CurlHTTP
import FailoverCore
import Foundation

/// Delivers queued alerts to their sinks: in queue order per sink and key, retrying with
/// exponential backoff, honouring `429` and `Retry-After`, giving up only on permanent
/// errors (another 4xx), which stay recorded for `status`.
///
/// Guarantees: an alert is recorded `delivered` only after its sink accepted it (2xx); an
/// alert that was not is tried again, after a restart too, so delivery is at least once
/// (PagerDuty de-duplicates by `dedup_key`); an alert never overtakes an earlier one with
/// the same sink and key; errors never quote a sink's secrets.
public struct AlertSender: Sendable {
    let sinks: [String: AlertSink]
    let runbookBaseURL: String?
    let outbox: any AlertOutbox
    let engine: CurlEngine
    let secrets: [String]
    /// The wait after the first failed attempt; it doubles up to `maxBackoff`.
    public var backoff: Duration = .seconds(2)
    /// The longest wait between attempts.
    public var maxBackoff: Duration = .seconds(300)
    /// How long one delivery may take.
    public var timeout: Duration = .seconds(10)

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        /// Alerts delivered.
        public var delivered = 0
        /// Alerts that failed and wait for another attempt.
        public var retrying = 0
        /// Alerts given up on.
        public var failed = 0
        /// The earliest time a pending alert is due again, when one waits.
        public var nextDue: Timestamp?
    }

    /// Creates a sender for `config`'s sinks.
    public init(config: AlertConfig, outbox: any AlertOutbox, engine: CurlEngine = .shared) {
        sinks = Dictionary(config.sinks.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        runbookBaseURL = config.runbookBaseURL
        self.outbox = outbox
        self.engine = engine
        secrets = config.secrets
    }

    /// Tries every alert due at `now`, the sinks side by side, each sink's in queue order.
    public func deliverDue(now: Timestamp) async throws -> Pass {
        let pending = try outbox.pending()
        let bySink = Dictionary(grouping: pending, by: \.sink)
        return await withTaskGroup(of: Pass.self) { group in
            for (name, items) in bySink {
                group.addTask { await deliver(items, sink: sinks[name], now: now) }
            }
            var total = Pass()
            for await pass in group {
                total.delivered += pass.delivered
                total.retrying += pass.retrying
                total.failed += pass.failed
                total.nextDue = [total.nextDue, pass.nextDue].compactMap { $0 }.min()
            }
            return total
        }
    }

    /// One sink's alerts in order; a key whose alert must wait holds back its later ones.
    private func deliver(_ items: [QueuedAlert], sink: AlertSink?, now: Timestamp) async -> Pass {
        var pass = Pass()
        var held: Set<String> = []
        for item in items where !held.contains(item.key) {
            guard item.nextAt <= now else {
                held.insert(item.key)
                pass.nextDue = [pass.nextDue, item.nextAt].compactMap { $0 }.min()
                continue
            }
            let attempts = item.attempts + 1
            let result = await send(item.alert, to: sink)
            do {
                switch result {
                case .delivered:
                    try outbox.delivered(item.id, attempts: attempts, at: now)
                    pass.delivered += 1
                case .retry(let error, let after):
                    let next = now.advanced(by: max(after ?? .zero, delay(afterAttempt: attempts)))
                    try outbox.retry(item.id, attempts: attempts, next: next, error: error)
                    held.insert(item.key)
                    pass.retrying += 1
                    pass.nextDue = [pass.nextDue, next].compactMap { $0 }.min()
                case .permanent(let error):
                    try outbox.failed(item.id, attempts: attempts, at: now, error: error)
                    pass.failed += 1
                }
            } catch {
                // Not recorded: the alert stays pending and is tried again next pass.
                held.insert(item.key)
            }
        }
        return pass
    }

    /// The wait after `attempt` failed: `backoff`, doubling, at most `maxBackoff`.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var wait = backoff
        for _ in 1..<max(attempt, 1) where wait < maxBackoff { wait = wait * 2 }
        return min(wait, maxBackoff)
    }
}
