import CurlHTTP
import FailoverCore
import Foundation
import Logging

/// Points a DNS name at this site through the PowerDNS Authoritative HTTP API, for a
/// `powerdns` action: `PATCH /api/v1/servers/SERVER/zones/ZONE` with one rrset
/// `changetype: REPLACE` holding exactly `content`.
///
/// Guarantees, beyond `ActionPlugin`'s:
/// - Idempotent: it reads the rrset first (`?rrset_name=&rrset_type=`) and sends no PATCH
///   when it already holds exactly `content` with the wanted TTL ("already" in `changed`).
/// - With `verify_dns`, it then asks that DNS server with `dig` every `digPoll` until it
///   answers `content`, for at most `verify_timeout`; a server still answering something
///   else is a retryable failure naming the answer.
/// - The report's `dnsTTL` is the rrset's TTL (the worst-case delay of clients' caches).
/// - 401/403 (a wrong key) and 404/422 (no such zone, a record PowerDNS rejects) are
///   permanent; 429, 5xx and network trouble retryable. The key goes only into the
///   `X-API-Key` header and never into an error, a report or a log line.
/// - Every API call carries the run's fencing token as `X-Failover-Token: EPOCH.TERM`, for a
///   proxy in front of the API that refuses a superseded leader (docs/fencing.md).
public struct PowerDNSAction: ActionPlugin {
    /// The TTL of a new rrset when the options name none.
    public static let defaultTTL = Duration.seconds(60)

    private let engine: CurlEngine
    let digPollInterval: Duration
    private let logger: Logger

    /// Creates the plugin; `digPoll` is the interval between verification queries.
    public init(
        engine: CurlEngine = .shared, digPoll: Duration = .milliseconds(50),
        logger: Logger = Logger(label: "failoverctl.actions.powerdns")
    ) {
        self.engine = engine
        self.digPollInterval = digPoll
        self.logger = logger
    }

    /// Replaces the rrset once (unless already right) and verifies; see the type's guarantees.
    public func perform(_ request: ActionRequest) async throws -> ActionReport {
        guard case .plugin(let spec) = request.step.action, case .powerdns(let o) = spec else {
            throw ActionError.permanent("the powerdns plugin cannot run \(request.step.summary)")
        }
        let http = PluginHTTP(
            engine: engine, service: "the PowerDNS API at \(Redaction.url(o.api))", secrets: spec.secrets,
            deadline: ContinuousClock.now + request.timeout, limit: request.timeout,
            fencingToken: request.context.token)
        let current = try await currentRRset(o, http)
        let ttl = o.ttl ?? current?.ttlDuration ?? Self.defaultTTL
        let record = "\(o.name) \(o.type.rawValue)"
        var changed: [String] = []
        if let current, current.contents == [o.content], current.ttlDuration == ttl {
            changed.append("\(record) already was \(o.content) (TTL \(ttl.text))")
        } else {
            try await replace(o, ttl: ttl, http)
            let was = current.map { " (was \($0.contents.joined(separator: ", ")))" } ?? ""
            changed.append("set \(record) to \(o.content) with TTL \(ttl.text)\(was)")
        }
        if let server = o.verifyDNS { changed.append(try await verify(o, at: server)) }
        logger.debug("powerdns: \(changed.joined(separator: "; "))")
        return ActionReport(changed: changed, dnsTTL: ttl)
    }

    /// The zone's URL on the API.
    static func zoneURL(_ o: PowerDNSOptions) -> String {
        "\(o.api)/api/v1/servers/\(PluginHTTP.segment(o.server))/zones/\(PluginHTTP.segment(o.zone))"
    }

    /// The rrset's records and TTL as PowerDNS holds them now; nil when there is none.
    func currentRRset(_ o: PowerDNSOptions, _ http: PluginHTTP) async throws -> PowerDNSZone.RRset? {
        let query = "?rrset_name=\(PluginHTTP.queryValue(o.name))&rrset_type=\(o.type.rawValue)"
        let response = try await http.send(.get, Self.zoneURL(o) + query, headers: Self.headers(o))
        try check(response, doing: "reading zone \(o.zone)", o: o, http: http)
        guard let zone = try? JSONDecoder().decode(PowerDNSZone.self, from: response.body) else {
            throw ActionError.failed(
                "\(http.service) answered zone \(o.zone) with something that is not a zone", retryable: true)
        }
        return zone.rrsets?.first { $0.name.lowercased() == o.name.lowercased() && $0.type == o.type.rawValue }
    }

    private func replace(_ o: PowerDNSOptions, ttl: Duration, _ http: PluginHTTP) async throws {
        let rrset: [String: Any] = [
            "name": o.name, "type": o.type.rawValue, "ttl": ttl.wholeSeconds, "changetype": "REPLACE",
            "records": [["content": o.content, "disabled": false]],
        ]
        let body = try JSONSerialization.data(withJSONObject: ["rrsets": [rrset]])
        let response = try await http.send(.patch, Self.zoneURL(o), headers: Self.headers(o), body: body)
        try check(response, doing: "replacing \(o.name) \(o.type.rawValue)", o: o, http: http)
    }

    private static func headers(_ o: PowerDNSOptions) -> [(name: String, value: String)] {
        [(name: "X-API-Key", value: o.key), (name: "Accept", value: "application/json")]
    }

    /// Throws the error a non-2xx answer means.
    private func check(_ response: HTTPResponse, doing what: String, o: PowerDNSOptions, http: PluginHTTP) throws {
        let status = response.status
        if (200..<300).contains(status) { return }
        let detail = Self.errorText(response.body)
        switch status {
        case 401, 403:
            throw ActionError.permanent("\(http.service) refused the API key (\(status)) while \(what): check `key`")
        case 404:
            let suffix = detail.isEmpty ? "" : ": " + http.scrub(detail)
            throw ActionError.permanent("\(http.service) has no zone \(o.zone) on server \(o.server) (404)\(suffix)")
        default:
            throw http.statusError(response, doing: what, detail: detail)
        }
    }

    /// PowerDNS's `{"error": "..."}` text, or the body's first line.
    static func errorText(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let error = object["error"] as? String
        {
            return error
        }
        return String(decoding: body.prefix(300), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(
            String.init) ?? ""
    }
}

/// The parts of a PowerDNS zone the plugin reads.
struct PowerDNSZone: Decodable {
    /// One rrset.
    struct RRset: Decodable {
        struct Record: Decodable {
            let content: String
            let disabled: Bool?
        }

        let name: String
        let type: String
        let ttl: Int64?
        let records: [Record]

        /// The rrset's TTL as a duration.
        var ttlDuration: Duration? { ttl.map { .seconds($0) } }
        /// The contents of its enabled records.
        var contents: [String] { records.filter { $0.disabled != true }.map(\.content) }
    }

    let rrsets: [RRset]?
}
