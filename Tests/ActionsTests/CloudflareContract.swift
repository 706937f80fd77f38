import FailoverTesting
import Foundation
import Synchronization

/// The Cloudflare v4 API as the plugin uses it, played by a `ContractServer` on loopback
/// (Cloudflare has no local server). It follows the documented envelope exactly:
/// `{"success","errors":[{"code","message"}],"messages","result"}`, lists with
/// `result_info`, `Authorization: Bearer` checked (403, code 10000 otherwise), DNS records
/// found by `name` and `type` and patched in place, load-balancer pools read and patched.
/// Faults (500, 429 with `Retry-After`) are queued on `server`, which records every request.
final class CloudflareContract: Sendable {
    /// A stored DNS record.
    struct Record: Sendable {
        var id: String
        var name: String
        var type: String
        var content: String
        var ttl: Int
    }

    /// A stored pool origin.
    struct Origin: Sendable {
        var name: String
        var address: String
        var enabled: Bool
        var weight: Double
    }

    struct State: Sendable {
        var records: [String: [Record]] = [:]
        var pools: [String: [Origin]] = [:]
    }

    /// The stored zone and pools, shared with the server's handler.
    final class Store: Sendable {
        private let state: Mutex<State>
        init(_ state: State) { self.state = Mutex(state) }
        func withLock<T>(_ body: (inout State) -> T) -> T { state.withLock { body(&$0) } }
    }

    /// The token it accepts.
    let token: String
    let state: Store
    /// The HTTP server (faults, recorded requests).
    let server: ContractServer

    /// Starts the contract with one zone `zone` holding `records`, and `pools` by id.
    init(token: String, zone: String, records: [Record], pools: [String: [Origin]] = [:]) throws {
        self.token = token
        let state = Store(State(records: [zone: records], pools: pools))
        self.state = state
        server = try ContractServer { request in Self.answer(request, token: token, state: state) }
    }

    /// The `api:` option: `http://127.0.0.1:PORT/client/v4`.
    var api: String { server.url("/client/v4") }

    /// The record `id` of `zone` as stored now.
    func record(_ zone: String, id: String) -> Record? { state.withLock { $0.records[zone]?.first { $0.id == id } } }

    /// The origins of pool `id` as stored now.
    func origins(_ pool: String) -> [Origin] { state.withLock { $0.pools[pool] ?? [] } }

    /// The methods and paths received, in order (`PATCH /client/v4/zones/...`).
    var calls: [String] { server.requests.map { "\($0.method) \($0.path)" } }

    private static func answer(_ request: ContractServer.Request, token: String, state: Store)
        -> ContractServer.Reply
    {
        guard request.headers["authorization"] == "Bearer \(token)" else {
            return failure(403, code: 10000, "Authentication error")
        }
        let (path, query) = split(request.path)
        let parts = path.split(separator: "/").map(String.init)
        switch (request.method, Array(parts.dropFirst(2))) {
        case ("GET", let p) where p.count == 3 && p[0] == "zones" && p[2] == "dns_records":
            return list(zone: p[1], query: query, state)
        case ("PATCH", let p) where p.count == 4 && p[0] == "zones" && p[2] == "dns_records":
            return patchRecord(zone: p[1], id: p[3], request.json ?? [:], state)
        case (let method, let p)
        where p.count == 5 && p[0] == "accounts" && p[2] == "load_balancers" && p[3] == "pools":
            return pool(p[4], method: method, body: request.json, state)
        default:
            return failure(404, code: 7003, "Could not route to \(path), perhaps your object identifier is invalid?")
        }
    }

    private static func list(zone: String, query: [String: String], _ state: Store) -> ContractServer.Reply {
        guard let records = state.withLock({ $0.records[zone] }) else {
            return failure(404, code: 7003, "Could not route to /zones/\(zone)/dns_records")
        }
        let found = records.filter { r in
            query["name"].map { $0 == r.name } ?? true && query["type"].map { $0 == r.type } ?? true
        }
        let info: [String: Any] = [
            "page": 1, "per_page": 100, "count": found.count, "total_count": found.count, "total_pages": 1,
        ]
        return success(found.map { json($0, zone: zone) }, info: info)
    }

    private static func patchRecord(zone: String, id: String, _ body: [String: Any], _ state: Store)
        -> ContractServer.Reply
    {
        if let ttl = body["ttl"] as? Int, ttl != 1, !(60...86_400).contains(ttl) {
            return failure(400, code: 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
        }
        enum Outcome { case missing, badContent, updated(Record) }
        let outcome = state.withLock { s -> Outcome in
            guard let index = s.records[zone]?.firstIndex(where: { $0.id == id }) else { return .missing }
            var record = s.records[zone]![index]
            if let content = body["content"] as? String { record.content = content }
            if let ttl = body["ttl"] as? Int { record.ttl = ttl }
            var v4 = in_addr()
            if record.type == "A", inet_pton(AF_INET, record.content, &v4) != 1 { return .badContent }
            s.records[zone]![index] = record
            return .updated(record)
        }
        guard case .updated(let updated) = outcome else {
            if case .missing = outcome { return failure(404, code: 81044, "Record does not exist.") }
            return failure(400, code: 9005, "Content for A record must be a valid IPv4 address.")
        }
        return success(json(updated, zone: zone))
    }

    private static func pool(_ id: String, method: String, body: [String: Any]?, _ state: Store)
        -> ContractServer.Reply
    {
        let origins = state.withLock { s -> [Origin]? in
            guard s.pools[id] != nil else { return nil }
            if method == "PATCH", let list = body?["origins"] as? [[String: Any]] {
                s.pools[id] = list.map {
                    Origin(
                        name: $0["name"] as? String ?? "", address: $0["address"] as? String ?? "",
                        enabled: $0["enabled"] as? Bool ?? true, weight: ($0["weight"] as? NSNumber)?.doubleValue ?? 1)
                }
            }
            return s.pools[id]
        }
        guard let origins, method == "GET" || method == "PATCH" else {
            return failure(404, code: 1000, "pool not found")
        }
        let list: [[String: Any]] = origins.map {
            ["name": $0.name, "address": $0.address, "enabled": $0.enabled, "weight": $0.weight]
        }
        return success(["id": id, "name": "pool-\(id)", "enabled": true, "origins": list])
    }

    private static func json(_ r: Record, zone: String) -> [String: Any] {
        [
            "id": r.id, "zone_id": zone, "zone_name": "example.com", "name": r.name, "type": r.type,
            "content": r.content, "proxiable": true, "proxied": false, "ttl": r.ttl, "locked": false,
            "created_on": "2026-01-01T00:00:00Z", "modified_on": "2026-01-01T00:00:00Z",
        ]
    }

    private static func success(_ result: Any, info: [String: Any]? = nil) -> ContractServer.Reply {
        var envelope: [String: Any] = ["success": true, "errors": [], "messages": [], "result": result]
        if let info { envelope["result_info"] = info }
        return reply(200, envelope)
    }

    /// A `success: false` envelope with one error.
    static func failure(_ status: Int, code: Int, _ message: String) -> ContractServer.Reply {
        reply(
            status,
            ["success": false, "errors": [["code": code, "message": message]], "messages": [], "result": NSNull()])
    }

    private static func reply(_ status: Int, _ object: [String: Any]) -> ContractServer.Reply {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return .init(status, String(decoding: data, as: UTF8.self), headers: ["Content-Type": "application/json"])
    }

    private static func split(_ target: String) -> (String, [String: String]) {
        guard let components = URLComponents(string: target) else { return (target, [:]) }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        return (components.path, query)
    }
}
