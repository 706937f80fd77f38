import FailoverCore
import Synchronization

/// One queued alert for one sink.
public struct QueuedAlert: Sendable, Equatable {
    /// Queue position (delivery keeps this order per sink and key).
    public var id: Int64
    /// The sink's name.
    public var sink: String
    /// The alert's key.
    public var key: String
    /// The alert.
    public var alert: Alert
    /// Attempts so far.
    public var attempts: Int
    /// Not before this time.
    public var nextAt: Timestamp

    /// Creates a queued alert.
    public init(id: Int64, sink: String, key: String, alert: Alert, attempts: Int, nextAt: Timestamp) {
        self.id = id
        self.sink = sink
        self.key = key
        self.alert = alert
        self.attempts = attempts
        self.nextAt = nextAt
    }
}

/// Where the sender finds queued alerts and records what became of them.
///
/// Every implementation must give: `pending()` returns undelivered, not given-up alerts in
/// queue order; each `record*` call is durable once it returns (the event log's outbox
/// table), so a restart neither loses nor re-sends what was recorded.
public protocol AlertOutbox: Sendable {
    /// Pending alerts in queue order.
    func pending() throws -> [QueuedAlert]
    /// `id` was delivered after `attempts` attempts.
    func delivered(_ id: Int64, attempts: Int, at: Timestamp) throws
    /// `id` failed and is tried again at `next`.
    func retry(_ id: Int64, attempts: Int, next: Timestamp, error: String) throws
    /// `id` is given up on: a permanent error.
    func failed(_ id: Int64, attempts: Int, at: Timestamp, error: String) throws
}

/// An outbox in memory, for tests.
public final class MemoryAlertOutbox: AlertOutbox {
    /// What became of an alert.
    public enum State: Sendable, Equatable {
        case pending
        case delivered(attempts: Int)
        case failed(String)
    }

    private let items = Mutex<[(QueuedAlert, State)]>([])

    /// Creates an empty outbox.
    public init() {}

    /// Queues `alert` for `sink`.
    public func add(_ alert: Alert, sink: String, at: Timestamp) {
        items.withLock { list in
            let item = QueuedAlert(id: Int64(list.count + 1), sink: sink, key: alert.key, alert: alert, attempts: 0, nextAt: at)
            list.append((item, .pending))
        }
    }

    /// Every alert with its state, in queue order.
    public var all: [(QueuedAlert, State)] { items.withLock { $0 } }

    public func pending() throws -> [QueuedAlert] { items.withLock { $0.filter { $0.1 == .pending }.map(\.0) } }

    public func delivered(_ id: Int64, attempts: Int, at: Timestamp) throws {
        update(id) { item, state in
            item.attempts = attempts
            state = .delivered(attempts: attempts)
        }
    }

    public func retry(_ id: Int64, attempts: Int, next: Timestamp, error: String) throws {
        update(id) { item, _ in
            item.attempts = attempts
            item.nextAt = next
        }
    }

    public func failed(_ id: Int64, attempts: Int, at: Timestamp, error: String) throws {
        update(id) { item, state in
            item.attempts = attempts
            state = .failed(error)
        }
    }

    private func update(_ id: Int64, _ change: (inout QueuedAlert, inout State) -> Void) {
        items.withLock { list in
            guard let index = list.firstIndex(where: { $0.0.id == id }) else { return }
            var (item, state) = list[index]
            change(&item, &state)
            list[index] = (item, state)
        }
    }
}
