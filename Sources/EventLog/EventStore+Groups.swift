import FailoverCore
import Foundation
import GRDB

extension EventStore {
    /// Records one change of a group in one transaction: its new durable state, the events
    /// the change produced and the incidents it opened or updated. All or nothing, so after
    /// a crash the state, the events and the incidents always agree.
    @discardableResult
    public func recordGroupChange(
        group: String, state: GroupState, events: [Event], incidents: [Incident], at: Timestamp
    ) throws -> [Event] {
        try write { db in
            try upsert(group: group, state: state, at: at, db)
            for incident in incidents { try upsert(incident, db) }
            return try insert(events, db)
        }
    }

    /// Writes `state` as the stored state of `group`, inside the caller's transaction.
    func upsert(group: String, state: GroupState, at: Timestamp, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO group_state (grp, updated_at, json) VALUES (?, ?, ?)",
            arguments: [group, at.milliseconds, String(decoding: try Self.jsonEncoder.encode(state), as: UTF8.self)])
    }

    /// Writes `incident` (new or updated), inside the caller's transaction.
    func upsert(_ incident: Incident, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO incident (id, grp, epoch, decided_at, result, json) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                incident.id, incident.group, incident.epoch, incident.decided.milliseconds, incident.result.rawValue,
                String(decoding: try Self.jsonEncoder.encode(incident), as: UTF8.self),
            ])
    }

    /// The stored state of every group, by group name.
    public func groupStates() throws -> [String: GroupState] {
        let rows = try read { db in try Row.fetchAll(db, sql: "SELECT grp, json FROM group_state") }
        var out: [String: GroupState] = [:]
        for row in rows {
            let name: String = row["grp"]
            out[name] = try decode(GroupState.self, row["json"], what: "group_state of \(name)")
        }
        return out
    }

    /// Incidents (failovers and drills), oldest first: the last `limit` of `group`, or of all groups.
    public func incidents(group: String? = nil, limit: Int = 100) throws -> [Incident] {
        let filter = group == nil ? "" : "WHERE grp = ?"
        let arguments: StatementArguments = group.map { [$0, max(limit, 0)] } ?? [max(limit, 0)]
        let sql = """
            SELECT * FROM (SELECT id, json, decided_at FROM incident \(filter) ORDER BY decided_at DESC, id DESC LIMIT ?)
            ORDER BY decided_at, id
            """
        let rows = try read { db in try Row.fetchAll(db, sql: sql, arguments: arguments) }
        return try rows.map { row in try decode(Incident.self, row["json"], what: "incident \(row["id"] as String? ?? "?")") }
    }

    /// The incident with `id`, if stored.
    public func incident(id: String) throws -> Incident? {
        let json = try read { db in try String.fetchOne(db, sql: "SELECT json FROM incident WHERE id = ?", arguments: [id]) }
        return try json.map { try decode(Incident.self, $0, what: "incident \(id)") }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ json: String, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        } catch {
            throw EventStoreError.unreadableRow.at(path, "\(what): \(error)")
        }
    }

    static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}
