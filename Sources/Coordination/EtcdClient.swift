import CurlHTTP
import FailoverCore
import Foundation
import Synchronization

/// A small client of etcd v3's HTTP/JSON gateway: leases, ranges, puts and transactions.
///
/// Keys and values travel base64-encoded and 64-bit numbers as strings, as the gateway
/// wants. A request goes to the endpoint that answered last; when that one does not answer
/// (refused, timed out, or etcd says it is unavailable) the next one is tried, so one dead
/// etcd member costs one failed connection, not a failed call. A call fails only when no
/// endpoint answered, with every endpoint's reason.
public final class EtcdClient: Sendable {
    let endpoints: [String]
    let timeout: Duration
    let caFile: String?
    let clientCertificate: (certFile: String, keyFile: String)?
    private let engine: CurlEngine
    private let preferred = Mutex(0)

    /// Creates a client of the etcd members at `endpoints`.
    public init(config: EtcdConfig, engine: CurlEngine = CurlEngine(maxIdleHandles: 8)) {
        endpoints = config.endpoints
        timeout = config.timeout
        caFile = config.caFile
        clientCertificate = config.certFile.flatMap { cert in config.keyFile.map { (cert, $0) } }
        self.engine = engine
    }

    /// POSTs `body` to `path` (e.g. `/v3/kv/range`) and decodes the answer as `T`.
    func call<T: Decodable>(_ path: String, _ body: JSONValue, as type: T.Type = T.self) async throws(CoordinationError) -> T {
        let data = try await post(path, body)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .rejected("etcd answered \(path) with something unreadable: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
    }

    private func post(_ path: String, _ body: JSONValue) async throws(CoordinationError) -> Data {
        let start = preferred.withLock { $0 }
        var reasons: [String] = []
        for offset in 0..<endpoints.count {
            let index = (start + offset) % endpoints.count
            let endpoint = endpoints[index]
            var request = HTTPRequest(
                url: endpoint + path, method: .post, headers: [("Content-Type", "application/json")],
                body: Data(body.jsonText.utf8), timeout: timeout, connectTimeout: timeout, caFile: caFile,
                bodyLimit: 16 << 20, freshConnection: false)
            request.clientCertificate = clientCertificate
            let response = await engine.perform(request)
            if let error = response.error {
                if error.isCancelled { throw .unreachable("cancelled") }
                reasons.append("\(endpoint): \(error)")
                continue
            }
            if response.status == 200 {
                if offset > 0 { preferred.withLock { $0 = index } }
                return response.body
            }
            let failure = try? JSONDecoder().decode(EtcdFailure.self, from: response.body)
            let message = failure?.message ?? "HTTP \(response.status)"
            // gRPC codes 14 (unavailable) and 4 (deadline exceeded): this member cannot serve
            // now (no raft leader, partitioned); another may.
            if response.status >= 500 || failure?.code == 14 || failure?.code == 4 {
                reasons.append("\(endpoint): \(message)")
                continue
            }
            throw .rejected("etcd refused \(path): \(message)")
        }
        throw .unreachable(reasons.joined(separator: "; "))
    }

    // MARK: - Watch

    /// Watches the keys from `key` up to `end` (exclusive) on one member, from the
    /// preferred one on: `changed` is called when the watch is created and for every batch
    /// of changes (puts, deletions, lease expiries). Returns why the stream ended: after
    /// `duration`, or when the member went away or cancelled it; throws only when cancelled.
    func watch(from key: String, to end: String, for duration: Duration, changed: @escaping @Sendable () -> Void)
        async throws(CoordinationError) -> String
    {
        let index = preferred.withLock { $0 }
        let endpoint = endpoints[index]
        let body = JSONValue.object(["create_request": .object(["key": Self.b64(key), "range_end": Self.b64(end)])])
        let lines = WatchLines(changed: changed)
        var request = HTTPRequest(
            url: endpoint + "/v3/watch", method: .post, headers: [("Content-Type", "application/json")],
            body: Data(body.jsonText.utf8), timeout: duration, connectTimeout: timeout, caFile: caFile,
            bodyLimit: 4 << 20, freshConnection: true)
        request.clientCertificate = clientCertificate
        request.onData = { lines.take($0) }
        let response = await engine.perform(request)
        if let error = response.error {
            if error.isCancelled { throw .unreachable("cancelled") }
            // Not answering: the next watch goes to the next member.
            if !lines.created { preferred.withLock { $0 = (index + 1) % endpoints.count } }
            return "\(endpoint): \(error)"
        }
        return "\(endpoint) ended the watch (HTTP \(response.status))"
    }

    // MARK: - Leases

    /// Grants a lease of `ttl` seconds; returns its id.
    func grant(ttl: Int) async throws(CoordinationError) -> Int64 {
        let reply: LeaseReply = try await call("/v3/lease/grant", .object(["TTL": .string(String(ttl))]))
        guard let id = reply.id, id != 0 else { throw .rejected("etcd granted no lease: \(reply.error ?? "no ID in the answer")") }
        return id
    }

    /// Renews lease `id`; returns its remaining TTL in seconds, 0 when the lease is gone.
    func keepAlive(_ id: Int64) async throws(CoordinationError) -> Int {
        let reply: KeepAliveReply = try await call("/v3/lease/keepalive", .object(["ID": .string(String(id))]))
        if let error = reply.error {
            // A stream's error comes with HTTP 200: unavailable (14) is worth another try.
            let message = "lease keepalive: \(error.message ?? "failed")"
            throw error.code == 14 || error.code == 4 ? .unreachable(message) : .rejected(message)
        }
        return Int(reply.result?.ttl ?? 0)
    }

    /// Revokes lease `id`: every key under it goes at once.
    func revoke(_ id: Int64) async throws(CoordinationError) {
        let _: Header = try await call("/v3/lease/revoke", .object(["ID": .string(String(id))]))
    }

    // MARK: - Keys

    /// Puts `value` at `key`, under `lease` when given; returns the store's revision after it.
    @discardableResult
    func put(_ key: String, _ value: String, lease: Int64? = nil) async throws(CoordinationError) -> Int64 {
        let reply: Header = try await call("/v3/kv/put", Self.put(key, value, lease: lease))
        return reply.revision
    }

    /// Runs a transaction: `success` when every comparison holds, else `failure`.
    func txn(compare: [JSONValue], success: [JSONValue], failure: [JSONValue] = []) async throws(CoordinationError) -> TxnReply {
        try await call(
            "/v3/kv/txn", .object(["compare": .array(compare), "success": .array(success), "failure": .array(failure)]))
    }

    /// The keys under `prefix`, oldest modification first when `sortByModification`.
    func range(
        prefix: String, minModRevision: Int64 = 0, maxModRevision: Int64 = 0, limit: Int = 0, sortByModification: Bool = false
    ) async throws(CoordinationError) -> RangeReply {
        try await call(
            "/v3/kv/range",
            Self.range(
                prefix: prefix, minModRevision: minModRevision, maxModRevision: maxModRevision, limit: limit,
                sortByModification: sortByModification))
    }

    // MARK: - Request builders (for transactions)

    static func b64(_ text: String) -> JSONValue { .string(Data(text.utf8).base64EncodedString()) }

    static func put(_ key: String, _ value: String, lease: Int64? = nil) -> JSONValue {
        var body: [String: JSONValue] = ["key": b64(key), "value": b64(value)]
        if let lease { body["lease"] = .string(String(lease)) }
        return .object(body)
    }

    static func requestPut(_ key: String, _ value: String, lease: Int64? = nil) -> JSONValue {
        .object(["request_put": put(key, value, lease: lease)])
    }

    static func range(
        prefix: String, minModRevision: Int64 = 0, maxModRevision: Int64 = 0, limit: Int = 0, sortByModification: Bool = false,
        newestFirst: Bool = false
    ) -> JSONValue {
        var body: [String: JSONValue] = ["key": b64(prefix), "range_end": b64(rangeEnd(prefix))]
        if minModRevision > 0 { body["min_mod_revision"] = .string(String(minModRevision)) }
        if maxModRevision > 0 { body["max_mod_revision"] = .string(String(maxModRevision)) }
        if limit > 0 { body["limit"] = .string(String(limit)) }
        if sortByModification {
            body["sort_target"] = .string("MOD")
            body["sort_order"] = .string(newestFirst ? "DESCEND" : "ASCEND")
        }
        return .object(body)
    }

    static func requestRange(key: String) -> JSONValue { .object(["request_range": .object(["key": b64(key)])]) }

    static func requestRange(prefix: String) -> JSONValue { .object(["request_range": range(prefix: prefix)]) }

    static func requestDelete(from key: String, to end: String) -> JSONValue {
        .object(["request_delete_range": .object(["key": b64(key), "range_end": b64(end)])])
    }

    /// A comparison of `key`'s `target` (`VALUE`, `CREATE`, `MOD`, `LEASE`) with `value`.
    static func compare(_ key: String, _ target: String, _ value: String) -> JSONValue {
        let field =
            switch target {
            case "VALUE": "value"
            case "CREATE": "create_revision"
            case "MOD": "mod_revision"
            default: "lease"
            }
        let operand: JSONValue = target == "VALUE" ? b64(value) : .string(value)
        return .object(["key": b64(key), "target": .string(target), "result": .string("EQUAL"), field: operand])
    }

    /// The end of the range of every key starting with `prefix`.
    static func rangeEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\0"
    }
}

// MARK: - Replies

/// etcd's error body: `{"error": …, "message": …, "code": N}` (unary calls) or
/// `{"error": {"grpc_code": N, "http_code": N, "message": …}}` (a stream's error).
struct EtcdFailure: Decodable {
    var message: String?
    var code: Int?

    init(from decoder: any Decoder) throws {
        let json = try JSONValue(from: decoder)
        let nested = json["error"].flatMap { $0.stringValue == nil ? $0 : nil }
        message = json["message"]?.stringValue ?? nested?["message"]?.stringValue ?? json["error"]?.stringValue
        code = (json["code"]?.numberValue ?? nested?["grpc_code"]?.numberValue ?? json["grpc_code"]?.numberValue).map { Int($0) }
    }
}

/// A reply carrying only a header (put, revoke).
struct Header: Decodable {
    var header: ResponseHeader?
    var revision: Int64 { header?.revision ?? 0 }
}

/// The header of every reply.
struct ResponseHeader: Decodable {
    var revision: Int64 { Int64(revisionText ?? "") ?? 0 }
    private var revisionText: String?
    enum CodingKeys: String, CodingKey { case revisionText = "revision" }
}

/// `/v3/lease/grant`.
struct LeaseReply: Decodable {
    var idText: String?
    var error: String?
    var id: Int64? { idText.flatMap { Int64($0) } }
    enum CodingKeys: String, CodingKey {
        case idText = "ID"
        case error
    }
}

/// `/v3/lease/keepalive` (one message of the stream).
struct KeepAliveReply: Decodable {
    struct Result: Decodable {
        var ttlText: String?
        var ttl: Int64 { Int64(ttlText ?? "") ?? 0 }
        enum CodingKeys: String, CodingKey { case ttlText = "TTL" }
    }
    var result: Result?
    var error: EtcdFailure?
}

/// One key-value pair; zero-valued numbers are omitted by the gateway.
struct KeyValue: Decodable {
    private var keyB64: String
    private var valueB64: String?
    private var createText: String?
    private var modText: String?
    private var leaseText: String?

    var key: String { Self.decode(keyB64) }
    var value: String { valueB64.map(Self.decode) ?? "" }
    var createRevision: Int64 { Int64(createText ?? "") ?? 0 }
    var modRevision: Int64 { Int64(modText ?? "") ?? 0 }
    var lease: Int64 { Int64(leaseText ?? "") ?? 0 }

    static func decode(_ b64: String) -> String { String(decoding: Data(base64Encoded: b64) ?? Data(), as: UTF8.self) }

    enum CodingKeys: String, CodingKey {
        case keyB64 = "key", valueB64 = "value", createText = "create_revision", modText = "mod_revision"
        case leaseText = "lease"
    }
}

/// `/v3/kv/range`.
struct RangeReply: Decodable {
    var header: ResponseHeader?
    var kvs: [KeyValue]?
    var more: Bool?
    var pairs: [KeyValue] { kvs ?? [] }
}

/// `/v3/kv/txn`.
struct TxnReply: Decodable {
    struct Response: Decodable {
        var rangeReply: RangeReply?
        enum CodingKeys: String, CodingKey { case rangeReply = "response_range" }
    }
    var header: ResponseHeader?
    var succeeded: Bool?
    var responses: [Response]?
    /// The pairs of the `index`-th range of the branch that ran.
    func range(_ index: Int) -> [KeyValue] {
        let ranges = (responses ?? []).compactMap(\.rangeReply)
        return index < ranges.count ? ranges[index].pairs : []
    }
}

/// Splits a watch's stream into its newline-separated messages and says which ones matter.
final class WatchLines: Sendable {
    private let state = Mutex<(pending: Data, created: Bool)>((Data(), false))
    private let changed: @Sendable () -> Void

    init(changed: @escaping @Sendable () -> Void) { self.changed = changed }

    /// Whether the watch was created (the member accepted it).
    var created: Bool { state.withLock { $0.created } }

    /// Takes a chunk of the stream; calls `changed` once for the chunk when any complete
    /// message in it creates the watch or carries events.
    func take(_ chunk: Data) {
        let notify = state.withLock { s -> Bool in
            s.pending.append(chunk)
            var notify = false
            while let newline = s.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = s.pending[s.pending.startIndex..<newline]
                s.pending.removeSubrange(s.pending.startIndex...newline)
                let text = String(decoding: line, as: UTF8.self)
                if text.contains("\"created\":true") { s.created = true; notify = true }
                if text.contains("\"events\"") { notify = true }
            }
            return notify
        }
        if notify { changed() }
    }
}
