import FailoverCore
import Foundation
import GRDB

/// The event log's side of the exchange between controllers (etcd coordination): this
/// controller's events go out in id order; other controllers' events and every incident
/// come in, each exactly once.
extension EventStore {
    /// A named cursor of the exchange; 0 when never set.
    public func mirrorCursor(_ name: String) throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT value FROM mirror_cursor WHERE name = ?", arguments: [name]) ?? 0 }
    }

    /// Sets a named cursor of the exchange.
    public func setMirrorCursor(_ name: String, _ value: Int64) throws {
        try write { db in try setMirrorCursor(name, value, db) }
    }

    private func setMirrorCursor(_ name: String, _ value: Int64, _ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO mirror_cursor (name, value) VALUES (?, ?)", arguments: [name, value])
    }

    /// Events recorded by `controller` with an id above `afterID`, oldest first (mirrored
    /// events are other controllers').
    public func ownEvents(controller: String, afterID: Int64, limit: Int = 500) throws -> [Event] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM event WHERE id > ? AND controller = ? ORDER BY id LIMIT ?
                    """,
                arguments: [afterID, controller, limit]
            ).map { try Self.event(from: $0) }
        }
    }

    /// Records other controllers' events (skipping any already mirrored in) and incidents,
    /// and moves cursor `name` to `cursor`, in one transaction. Mirrored events queue no
    /// alerts: their own controller sends those.
    @discardableResult
    public func recordMirrored(
        events: [(origin: String, event: Event)], incidents: [Incident], cursor name: String, to cursor: Int64
    ) throws -> Int {
        try write { db in
            var inserted = 0
            for (origin, event) in events {
                let known = try Bool.fetchOne(db, sql: "SELECT 1 FROM mirrored_event WHERE origin = ?", arguments: [origin]) ?? false
                guard !known else { continue }
                let stored = try insert([event], db, alerts: false)
                try db.execute(
                    sql: "INSERT INTO mirrored_event (origin, event_id) VALUES (?, ?)", arguments: [origin, stored[0].id ?? 0])
                inserted += 1
            }
            for incident in incidents { try upsert(incident, db) }
            try setMirrorCursor(name, cursor, db)
            return inserted
        }
    }

    /// Replaces the stored state of `group` (a follower mirrors the leader's).
    public func saveGroupState(_ group: String, _ state: GroupState, at: Timestamp) throws {
        try write { db in try upsert(group: group, state: state, at: at, db) }
    }
}
