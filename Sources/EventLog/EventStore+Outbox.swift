import FailoverCore
import Foundation
import GRDB

/// What the event store asks of its owner when alerts are configured: which outbox rows an
/// event makes, and a call once they are committed (to wake the sender).
public struct OutboxHooks: Sendable {
    /// The rows for one stored event (it has its id); run inside the event's transaction.
    public var route: @Sendable (Event) -> [OutboxEntry]
    /// Called after a transaction that added rows has committed.
    public var committed: @Sendable () -> Void

    /// Creates hooks.
    public init(route: @escaping @Sendable (Event) -> [OutboxEntry], committed: @escaping @Sendable () -> Void) {
        self.route = route
        self.committed = committed
    }
}

/// One alert to deliver to one sink.
public struct OutboxEntry: Sendable, Equatable {
    /// The sink's name.
    public var sink: String
    /// The alert's key (PagerDuty `dedup_key`): delivery keeps the order per sink and key.
    public var key: String
    /// The alert kind, for status.
    public var kind: String
    /// The alert as JSON, without secrets.
    public var body: String

    /// Creates an entry.
    public init(sink: String, key: String, kind: String, body: String) {
        self.sink = sink
        self.key = key
        self.kind = kind
        self.body = body
    }
}

/// A queued alert as the sender sees it.
public struct OutboxItem: Sendable, Equatable {
    /// Row id: the order alerts were queued in.
    public var id: Int64
    /// The event it comes from.
    public var eventID: Int64
    /// Sink, key, kind and body.
    public var entry: OutboxEntry
    /// Delivery attempts so far.
    public var attempts: Int
    /// Not before this time.
    public var nextAt: Timestamp
}

extension EventStore {
    /// Inserts the outbox rows of `event` (already inserted) inside the caller's transaction.
    func insertOutbox(for event: Event, _ db: Database) throws {
        guard let hooks = outboxHooks, let id = event.id else { return }
        let entries = hooks.route(event)
        guard !entries.isEmpty else { return }
        for entry in entries {
            try db.execute(
                sql: """
                    INSERT INTO alert_outbox (event_id, sink, dedup_key, kind, body, created_at, state, next_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
                    """,
                arguments: [id, entry.sink, entry.key, entry.kind, entry.body, event.at.milliseconds, event.at.milliseconds])
        }
        db.afterNextTransaction { _ in hooks.committed() }
    }

    /// Pending alerts, oldest first (at most `limit`).
    public func pendingAlerts(limit: Int = 500) throws -> [OutboxItem] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM alert_outbox WHERE state = 'pending' ORDER BY id LIMIT ?", arguments: [limit]
            ).map { row in
                OutboxItem(
                    id: row["id"], eventID: row["event_id"],
                    entry: OutboxEntry(sink: row["sink"], key: row["dedup_key"], kind: row["kind"], body: row["body"]),
                    attempts: row["attempts"], nextAt: Timestamp(milliseconds: row["next_at"]))
            }
        }
    }

    /// Records a delivery.
    public func recordAlertDelivered(_ id: Int64, attempts: Int, at: Timestamp) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE alert_outbox SET state = 'delivered', attempts = ?, done_at = ?, last_error = NULL WHERE id = ?",
                arguments: [attempts, at.milliseconds, id])
        }
    }

    /// Records a failed attempt that will be retried at `next`.
    public func recordAlertRetry(_ id: Int64, attempts: Int, next: Timestamp, error: String) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE alert_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
                arguments: [attempts, next.milliseconds, error, id])
        }
    }

    /// Records that an alert is given up on (a permanent error): kept, shown in `status`.
    public func recordAlertFailed(_ id: Int64, attempts: Int, at: Timestamp, error: String) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE alert_outbox SET state = 'failed', attempts = ?, done_at = ?, last_error = ? WHERE id = ?",
                arguments: [attempts, at.milliseconds, error, id])
        }
    }

    /// Counts and recent problems of the outbox.
    public func outboxStatus() throws -> AlertQueueStatus {
        try read { db in
            let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alert_outbox WHERE state = 'pending'") ?? 0
            let failed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alert_outbox WHERE state = 'failed'") ?? 0
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(created_at) FROM alert_outbox WHERE state = 'pending'")
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT sink, kind, state, attempts, last_error FROM alert_outbox
                    WHERE last_error IS NOT NULL AND state != 'delivered' ORDER BY id DESC LIMIT 5
                    """)
            let problems = rows.map { row -> String in
                let state: String = row["state"]
                let what = state == "failed" ? "given up" : "retrying after \(row["attempts"] as Int) attempts"
                return "\(row["sink"] as String) \(row["kind"] as String): \(what): \(row["last_error"] as String? ?? "")"
            }
            return AlertQueueStatus(
                pending: pending, failed: failed, oldestPendingAt: oldest.map(Timestamp.init(milliseconds:)),
                problems: problems)
        }
    }

    /// All outbox rows' bodies of `sink` with their state, oldest first (tests and `events`).
    public func outbox(sink: String) throws -> [(id: Int64, state: String, attempts: Int, body: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, state, attempts, body FROM alert_outbox WHERE sink = ? ORDER BY id", arguments: [sink])
                .map { ($0["id"], $0["state"], $0["attempts"], $0["body"]) }
        }
    }
}
