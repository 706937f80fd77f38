import EventLog
import FailoverCore
import Foundation
import Hummingbird
import Logging

/// The controller's HTTP API: `GET /healthz`, `GET /status`, `GET /events`.
///
/// Read-only in this version; every answer is JSON built from the `StatusBoard` and the
/// event log, with the same shapes as `failoverctl status --json` and `events --json`.
enum APIServer {
    /// The Hummingbird application serving the API on `address`.
    static func application(
        address: ListenAddress, board: StatusBoard, store: EventStore, wallClock: any WallClock, logger: Logger,
        onRunning: @escaping @Sendable () async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ in
            let schedule = await board.schedule
            return try json(HealthReply(status: "ok", schedule: schedule))
        }
        router.get("/status") { _, _ in
            try json(await board.report())
        }
        router.get("/events") { request, _ in
            let query = try eventQuery(request.uri.queryParameters, now: wallClock.now())
            return try json(try store.events(query))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "failoverctl"),
            onServerRunning: { _ in await onRunning() },
            logger: logger)
    }

    struct HealthReply: Codable {
        var status: String
        var schedule: ScheduleStats
    }

    /// `?site=east&since=10m&limit=100&after_id=42&kind=site_state_changed`.
    static func eventQuery(_ params: Parameters, now: Timestamp) throws -> EventQuery {
        var query = EventQuery()
        query.site = params.get("site")
        if let since = params.get("since") {
            guard let window = Duration(text: since) else {
                throw HTTPError(.badRequest, message: "since: \"\(since)\" is not a duration like 10m")
            }
            query.since = now.advanced(by: .zero - window)
        }
        if let limit = params.get("limit") {
            guard let value = Int(limit), value > 0 else { throw HTTPError(.badRequest, message: "limit: not a positive number") }
            query.limit = min(value, 100_000)
        }
        if let after = params.get("after_id") {
            guard let value = Int64(after), value >= 0 else {
                throw HTTPError(.badRequest, message: "after_id: not an event id")
            }
            query.afterID = value
        }
        if let kind = params.get("kind") {
            guard let value = EventKind(rawValue: kind) else { throw HTTPError(.badRequest, message: "kind: unknown event kind") }
            query.kinds = [value]
        }
        return query
    }

    static func json<T: Encodable>(_ value: T) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
