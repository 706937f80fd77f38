import EventLog
import FailoverCore
import Foundation

/// What the API's handlers read and act on.
struct APIContext: Sendable {
    let config: ControllerConfig
    let board: StatusBoard
    let store: EventStore
    let executor: LeadershipExecutor
    let wallClock: any WallClock
    let metrics: ControllerMetrics
}

/// The controller's HTTP API: `GET /healthz`, `/status`, `/metrics` (Prometheus), `/events`, `/groups`,
/// `/incidents`, `/groups/{g}/plan`, and the authenticated `POST /groups/{g}/failover`,
/// `drill`, `pause`, `resume` (see `APIServer+Groups.swift`); `GET /` is the status page (`StatusPage`).
///
/// Every answer is JSON with the same shapes as the CLI's `--json` output.
enum APIServer {
    /// The service serving the API on `address`.
    static func service(address: ListenAddress, context: APIContext, onRunning: @escaping @Sendable () async -> Void)
        -> StatusHTTPServer
    {
        StatusHTTPServer(address: address, onRunning: onRunning) { request in await route(request, context) }
    }

    static func route(_ request: APIRequest, _ context: APIContext) async -> APIReply {
        do {
            if request.path.hasPrefix("/groups/") { return try await groupRoute(request, context) }
            guard request.method != "POST" else { return .error(405, "\(request.path) takes GET") }
            switch request.path {
            case "/", "/index.html":
                return StatusPage.reply
            case "/healthz":
                return try json(HealthReply(status: "ok", schedule: await context.board.schedule))
            case "/status":
                return try json(await context.board.report())
            case "/metrics":
                return await metrics(context)
            case "/events":
                return try json(try context.store.events(try eventQuery(request.query, now: context.wallClock.now())))
            case "/groups":
                return try json(await context.executor.statuses())
            case "/incidents":
                let limit = try positive(request.query["limit"], name: "limit") ?? 100
                let incidents = try context.store.incidents(group: request.query["group"], limit: limit)
                return try json(incidents.map(IncidentView.init))
            default:
                return .error(404, "no such endpoint: \(request.path) (try /healthz, /status, /metrics, /events, /groups, /incidents)")
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

    /// A query parameter or body the API cannot use.
    struct BadRequest: Error {
        let message: String
    }

    /// `?site=east&group=web&since=10m&limit=100&after_id=42&kind=site_state_changed`.
    static func eventQuery(_ params: [String: String], now: Timestamp) throws -> EventQuery {
        var query = EventQuery()
        query.site = params["site"]
        query.group = params["group"]
        if let since = params["since"] {
            guard let window = Duration(text: since) else {
                throw BadRequest(message: "since: \"\(since)\" is not a duration like 10m")
            }
            query.since = now.advanced(by: .zero - window)
        }
        if let limit = try positive(params["limit"], name: "limit") { query.limit = min(limit, 100_000) }
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

    static func positive(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value > 0 else { throw BadRequest(message: "\(name): not a positive number") }
        return value
    }

    static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> APIReply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return APIReply(status: status, body: try encoder.encode(value))
    }
}
