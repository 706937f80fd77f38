import EventLog
import FailoverCore
import Foundation

/// The controller's HTTP API: `GET /healthz`, `GET /status`, `GET /events`.
///
/// Read-only in this version; every answer is JSON built from the `StatusBoard` and the
/// event log, with the same shapes as `failoverctl status --json` and `events --json`.
enum APIServer {
    /// The service serving the API on `address`.
    static func service(
        address: ListenAddress, board: StatusBoard, store: EventStore, wallClock: any WallClock,
        onRunning: @escaping @Sendable () async -> Void
    ) -> StatusHTTPServer {
        StatusHTTPServer(address: address, onRunning: onRunning) { request in
            await route(request, board: board, store: store, wallClock: wallClock)
        }
    }

    static func route(_ request: APIRequest, board: StatusBoard, store: EventStore, wallClock: any WallClock) async
        -> APIReply
    {
        do {
            switch request.path {
            case "/healthz":
                return try json(HealthReply(status: "ok", schedule: await board.schedule))
            case "/status":
                return try json(await board.report())
            case "/events":
                let query = try eventQuery(request.query, now: wallClock.now())
                return try json(try store.events(query))
            default:
                return .error(404, "no such endpoint: \(request.path) (try /healthz, /status, /events)")
            }
        } catch let error as BadRequest {
            return .error(400, error.message)
        } catch {
            return .error(500, "\(error)")
        }
    }

    struct HealthReply: Codable {
        var status: String
        var schedule: ScheduleStats
    }

    /// A query parameter the API cannot use.
    struct BadRequest: Error {
        let message: String
    }

    /// `?site=east&since=10m&limit=100&after_id=42&kind=site_state_changed`.
    static func eventQuery(_ params: [String: String], now: Timestamp) throws -> EventQuery {
        var query = EventQuery()
        query.site = params["site"]
        if let since = params["since"] {
            guard let window = Duration(text: since) else {
                throw BadRequest(message: "since: \"\(since)\" is not a duration like 10m")
            }
            query.since = now.advanced(by: .zero - window)
        }
        if let limit = params["limit"] {
            guard let value = Int(limit), value > 0 else { throw BadRequest(message: "limit: not a positive number") }
            query.limit = min(value, 100_000)
        }
        if let after = params["after_id"] {
            guard let value = Int64(after), value >= 0 else { throw BadRequest(message: "after_id: not an event id") }
            query.afterID = value
        }
        if let kind = params["kind"] {
            guard let value = EventKind(rawValue: kind) else { throw BadRequest(message: "kind: unknown event kind") }
            query.kinds = [value]
        }
        return query
    }

    static func json<T: Encodable>(_ value: T) throws -> APIReply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return APIReply(status: 200, body: try encoder.encode(value))
    }
}
