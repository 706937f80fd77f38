import FailoverCore
import Foundation
import GRDB

/// Facts about the controller that last ran on this state, for `status` without a controller.
public struct ControllerInfo: Sendable, Equatable, Codable {
    /// The controller id.
    public var id: String
    /// Where its status API listened.
    public var listen: String
    /// When it started.
    public var startedAt: Timestamp
    /// When it stopped cleanly (nil while running, or after a crash).
    public var stoppedAt: Timestamp?
    /// Its process id.
    public var pid: Int32

    /// Creates controller facts.
    public init(id: String, listen: String, startedAt: Timestamp, stoppedAt: Timestamp? = nil, pid: Int32) {
        self.id = id
        self.listen = listen
        self.startedAt = startedAt
        self.stoppedAt = stoppedAt
        self.pid = pid
    }

    enum CodingKeys: String, CodingKey {
        case id, listen, pid
        case startedAt = "started_at", stoppedAt = "stopped_at"
    }
}

extension EventStore {
    /// Saves the last status of each site (replacing earlier ones) in one transaction.
    public func saveSiteStatuses(_ statuses: [SiteStatus], controller: String, at: Timestamp) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try write { db in
            for status in statuses {
                let json = String(decoding: try encoder.encode(status), as: UTF8.self)
                try db.execute(
                    sql: "INSERT OR REPLACE INTO site_status (site, controller, updated_at, json) VALUES (?, ?, ?, ?)",
                    arguments: [status.name, controller, at.milliseconds, json])
            }
        }
    }

    /// The saved site statuses with when each was saved, by site name.
    public func siteStatuses() throws -> [String: (status: SiteStatus, updatedAt: Timestamp)] {
        let rows = try read { db in try Row.fetchAll(db, sql: "SELECT site, updated_at, json FROM site_status") }
        var out: [String: (status: SiteStatus, updatedAt: Timestamp)] = [:]
        for row in rows {
            let json: String = row["json"]
            guard let status = try? JSONDecoder().decode(SiteStatus.self, from: Data(json.utf8)) else {
                throw EventStoreError.unreadableRow.at(path, "site_status of \(row["site"] as String? ?? "?")")
            }
            out[status.name] = (status, Timestamp(milliseconds: row["updated_at"]))
        }
        return out
    }

    /// Records that a controller started (replacing what an earlier run left).
    public func recordControllerStarted(_ info: ControllerInfo) throws {
        try setInfo(info)
    }

    /// Records that the controller stopped cleanly at `at`.
    public func recordControllerStopped(at: Timestamp) throws {
        guard var info = try controllerInfo() else { return }
        info.stoppedAt = at
        try setInfo(info)
    }

    /// What the last controller on this state recorded about itself.
    public func controllerInfo() throws -> ControllerInfo? {
        let text = try read { db in
            try String.fetchOne(db, sql: "SELECT value FROM controller_info WHERE key = 'controller'")
        }
        guard let text else { return nil }
        return try? JSONDecoder().decode(ControllerInfo.self, from: Data(text.utf8))
    }

    private func setInfo(_ info: ControllerInfo) throws {
        let json = String(decoding: try JSONEncoder().encode(info), as: UTF8.self)
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO controller_info (key, value) VALUES ('controller', ?)", arguments: [json])
        }
    }
}
