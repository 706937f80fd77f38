import CurlHTTP
import FailoverCore
import Foundation
import Logging

/// Points a Cloudflare DNS record at this site and/or enables or disables this site's
/// origin in a load-balancer pool, through the Cloudflare v4 API, for a `cloudflare` action.
///
/// Guarantees, beyond `ActionPlugin`'s:
/// - Record: found by name and type (`GET /zones/ZONE/dns_records?name=&type=`); exactly one
///   must exist (none, or several, is a permanent error). Idempotent: when it already holds
///   `content` (and `ttl`, if given) no PATCH is sent ("already" in `changed`); otherwise
///   `PATCH /zones/ZONE/dns_records/ID {"content","ttl"}` and the returned record must show
///   the new content. The report's `dnsTTL` is the record's TTL (automatic, 1, counts as 300 s).
/// - Pool: `GET /accounts/ACCOUNT/load_balancers/pools/POOL`, then, unless the origin is
///   already as wanted, `PATCH` of the pool's whole `origins` list with only that origin's
///   `enabled` changed (every other field sent back as read).
/// - Every answer is read as the v4 envelope: `success: false` is an error quoting
///   Cloudflare's codes and messages. 401/403 and authentication error codes are permanent
///   ("refused the API token"); 429 is retryable and names `Retry-After` when given; 5xx and
///   network trouble are retryable; other 4xx permanent. The token goes only into the
///   `Authorization` header, never into an error, a report or a log line.
/// - Every API call carries the run's fencing token as `X-Failover-Token: EPOCH.TERM`, for a
///   proxy in front of the API that refuses a superseded leader (docs/fencing.md).
public struct CloudflareAction: ActionPlugin {
    /// What Cloudflare's "automatic" TTL (1) means for clients.
    public static let automaticTTL = Duration.seconds(300)

    private let engine: CurlEngine
    private let logger: Logger

    /// Creates the plugin.
    public init(engine: CurlEngine = .shared, logger: Logger = Logger(label: "failoverctl.actions.cloudflare")) {
        self.engine = engine
        self.logger = logger
    }

    /// Brings the record and/or pool origin to the wanted state once; see the type's guarantees.
    public func perform(_ request: ActionRequest) async throws -> ActionReport {
        guard case .plugin(let spec) = request.step.action, case .cloudflare(let o) = spec else {
            throw ActionError.permanent("the cloudflare plugin cannot run \(request.step.summary)")
        }
        let api = CloudflareAPI(
            options: o,
            http: PluginHTTP(
                engine: engine, service: "the Cloudflare API at \(Redaction.url(o.api))", secrets: spec.secrets,
                deadline: ContinuousClock.now + request.timeout, limit: request.timeout,
                fencingToken: request.context.token))
        var report = ActionReport()
        if let record = o.record {
            let (sentence, ttl) = try await update(record, api)
            report.changed.append(sentence)
            report.dnsTTL = ttl == .seconds(1) ? Self.automaticTTL : ttl
        }
        if let pool = o.pool { report.changed.append(try await update(pool, api)) }
        logger.debug("cloudflare: \(report.changed.joined(separator: "; "))")
        return report
    }

    /// Patches the record unless it is already right; the sentence and the record's TTL.
    private func update(_ r: CloudflareOptions.Record, _ api: CloudflareAPI) async throws -> (String, Duration) {
        let name = "\(r.name) \(r.type.rawValue)"
        let found: [CloudflareDNSRecord] = try await api.call(
            .get,
            "/zones/\(PluginHTTP.segment(r.zoneID))/dns_records"
                + "?name=\(PluginHTTP.queryValue(r.name))&type=\(r.type.rawValue)", doing: "finding \(name)")
        guard found.count == 1, let current = found.first else {
            let problem = found.isEmpty ? "has no \(name) record" : "has \(found.count) \(name) records"
            throw ActionError.permanent("Cloudflare zone \(r.zoneID) \(problem); the plugin changes exactly one")
        }
        let ttl = r.ttl ?? .seconds(current.ttl ?? 1)
        if current.content == r.content, r.ttl == nil || current.ttl == r.ttl?.wholeSeconds {
            return ("\(name) already was \(r.content) (TTL \(Self.ttlText(ttl)))", ttl)
        }
        var body: [String: Any] = ["content": r.content]
        if let wanted = r.ttl { body["ttl"] = wanted.wholeSeconds }
        let updated: CloudflareDNSRecord = try await api.call(
            .patch, "/zones/\(PluginHTTP.segment(r.zoneID))/dns_records/\(PluginHTTP.segment(current.id))",
            body: try JSONSerialization.data(withJSONObject: body), doing: "updating \(name)")
        guard updated.content == r.content else {
            throw ActionError.failed("Cloudflare kept \(name) at \(updated.content) after the update", retryable: true)
        }
        return ("set \(name) to \(r.content) with TTL \(Self.ttlText(ttl)) (was \(current.content))", ttl)
    }

    /// `60s`, or `automatic` for Cloudflare's TTL 1.
    static func ttlText(_ ttl: Duration) -> String { ttl == .seconds(1) ? "automatic" : ttl.text }
}

/// The fields of a Cloudflare DNS record the plugin reads.
struct CloudflareDNSRecord: Decodable, Sendable {
    let id: String
    let name: String
    let type: String
    let content: String
    let ttl: Int64?
}
