import FailoverCore
import Foundation
import GRDB

/// Which events to read back.
public struct EventQuery: Sendable, Equatable {
    /// Only events about this site.
    public var site: String?
    /// Only events about this group.
    public var group: String?
    /// Only events at or after this instant.
    public var since: Timestamp?
    /// Only events with an id above this one (for following the log).
    public var afterID: Int64?
    /// Only these kinds (all when empty).
    public var kinds: [EventKind]
    /// At most this many, the most recent ones, returned oldest first.
    public var limit: Int

    /// Creates a query; by default the last 1,000 events of every kind.
    public init(
        site: String? = nil, group: String? = nil, since: Timestamp? = nil, afterID: Int64? = nil,
        kinds: [EventKind] = [], limit: Int = 1_000
    ) {
        self.site = site
        self.group = group
        self.since = since
        self.afterID = afterID
        self.kinds = kinds
        self.limit = limit
    }
}

extension EventStore {
    /// Appends `event` in its own transaction and returns it with its row id. Once this
    /// returns, the event survives the process being killed.
    @discardableResult
    public func recordEvent(_ event: Event) throws -> Event {
        try recordEvents([event])[0]
    }

    /// Appends `events` in one transaction (all or none) and returns them with their ids.
    @discardableResult
    public func recordEvents(_ events: [Event]) throws -> [Event] {
        try write { db in try insert(events, db) }
    }

    /// Inserts `events`, and the alerts they queue (unless `alerts` is false), inside the
    /// caller's transaction.
    func insert(_ events: [Event], _ db: Database, alerts: Bool = true) throws -> [Event] {
        try events.map { event in
            try db.execute(
                sql: """
                    INSERT INTO event (at, controller, grp, site, epoch, kind, details)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    event.at.milliseconds, event.controller, event.group, event.site, event.epoch,
                    event.kind.rawValue, event.details.jsonText,
                ])
            var stored = event
            stored.id = db.lastInsertedRowID
            if alerts { try insertOutbox(for: stored, db) }
            return stored
        }
    }

    /// The events matching `query`, oldest first.
    public func events(_ query: EventQuery = EventQuery()) throws -> [Event] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let site = query.site {
            clauses.append("site = ?")
            arguments += [site]
        }
        if let group = query.group {
            clauses.append("grp = ?")
            arguments += [group]
        }
        if let since = query.since {
            clauses.append("at >= ?")
            arguments += [since.milliseconds]
        }
        if let afterID = query.afterID {
            clauses.append("id > ?")
            arguments += [afterID]
        }
        if !query.kinds.isEmpty {
            clauses.append("kind IN (\(query.kinds.map { _ in "?" }.joined(separator: ",")))")
            arguments += StatementArguments(query.kinds.map(\.rawValue))
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT * FROM (SELECT * FROM event \(filter) ORDER BY id DESC LIMIT ?) ORDER BY id"
        arguments += [max(query.limit, 0)]
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { try Self.event(from: $0) }
        }
    }

    /// The number of stored events.
    public func eventCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") ?? 0 }
    }

    static func event(from row: Row) throws -> Event {
        let kindText: String = row["kind"]
        guard let kind = EventKind(rawValue: kindText) else {
            throw EventStoreError.unreadableRow.at("", "event \(row["id"] as Int64? ?? 0) has unknown kind \(kindText)")
        }
        let detailsText: String = row["details"]
        let details = (try? JSONDecoder().decode(JSONValue.self, from: Data(detailsText.utf8))) ?? .string(detailsText)
        return Event(
            id: row["id"], at: Timestamp(milliseconds: row["at"]), controller: row["controller"], group: row["grp"],
            site: row["site"], epoch: row["epoch"], kind: kind, details: details)
    }
}
