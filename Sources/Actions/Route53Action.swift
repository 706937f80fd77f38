import CurlHTTP
import FailoverCore
import Foundation
import Logging

/// Points a DNS name at this site through the Route 53 API, for a `route53` action: one
/// `UPSERT` through `ChangeResourceRecordSets`, then `GetChange` until `INSYNC`.
///
/// Guarantees, beyond `ActionPlugin`'s:
/// - Idempotent: it reads the record set first (`ListResourceRecordSets` with `name`,
///   `type`, `maxitems=1`) and sends no change when it already holds exactly the values
///   with the wanted TTL ("already" in `changed`).
/// - Bounded: polling `GetChange` every `pollInterval` stops at the attempt's deadline
///   with a retryable timeout naming the change id (an UPSERT repeated later is harmless).
/// - Credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
///   `AWS_SESSION_TOKEN` at action time; a missing one is a permanent error naming the
///   variable. Neither the secret key nor the token is ever in an error, report or log.
/// - `Throttling`, `PriorRequestNotComplete`, 429, 5xx and network trouble are retryable;
///   `InvalidChangeBatch`, `NoSuchHostedZone`, `InvalidInput` and refused signatures (403)
///   are permanent and name AWS's code and message.
/// - The report's `dnsTTL` is the record's TTL.
public struct Route53Action: ActionPlugin {
    private let engine: CurlEngine
    private let environment: @Sendable () -> [String: String]
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// Creates the plugin; `environment` is read at each attempt (the process's by default)
    /// and `now` gives the signing time.
    public init(
        engine: CurlEngine = .shared,
        environment: @escaping @Sendable () -> [String: String] = { ProcessInfo.processInfo.environment },
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "failoverctl.actions.route53")
    ) {
        self.engine = engine
        self.environment = environment
        self.now = now
        self.logger = logger
    }

    /// UPSERTs the record set once (unless already right) and waits for `INSYNC`; see the
    /// type's guarantees.
    public func perform(_ request: ActionRequest) async throws -> ActionReport {
        guard case .plugin(let spec) = request.step.action, case .route53(let o) = spec else {
            throw ActionError.permanent("the route53 plugin cannot run \(request.step.summary)")
        }
        let credentials = try AWSCredentials.fromEnvironment(environment())
        let deadline = ContinuousClock.now + request.timeout
        let http = PluginHTTP(
            engine: engine, service: "Route 53 at \(Redaction.url(o.endpoint))",
            secrets: credentials.secrets + spec.secrets, deadline: deadline, limit: request.timeout)
        let api = AWSCall(
            http: http, credentials: credentials, endpoint: o.endpoint, region: o.region, service: "route53", now: now)
        let record = "\(o.name) \(o.type.rawValue)"
        let wanted = o.values.joined(separator: ", ")
        let current = try await currentRecordSet(o, api)
        var changed: [String] = []
        if let current, current.matches(o) {
            changed.append("\(record) already was \(wanted) (TTL \(o.ttl.text))")
        } else {
            let change = try await upsert(o, api)
            let waited = try await waitInSync(change, o, api, deadline: deadline)
            let was = current.map { " (was \($0.values.joined(separator: ", ")))" } ?? ""
            changed.append("set \(record) to \(wanted) with TTL \(o.ttl.text)\(was)")
            changed.append("Route 53 change \(change.id) INSYNC after \(waited.text)")
        }
        logger.debug("route53: \(changed.joined(separator: "; "))")
        return ActionReport(changed: changed, dnsTTL: o.ttl)
    }

    /// Polls `GetChange` until `INSYNC` (at once when the change already is); returns how
    /// long it waited. Throws a retryable timeout at `deadline`.
    private func waitInSync(
        _ change: Route53Change, _ o: Route53Options, _ api: AWSCall, deadline: ContinuousClock.Instant
    ) async throws -> Duration {
        let start = ContinuousClock.now
        while true {
            let status = try await changeStatus(change.id, api)
            if status == "INSYNC" { return start.duration(to: .now) }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > o.pollInterval else {
                throw ActionError.timedOut(
                    after: api.http.limit,
                    detail:
                        "Route 53 change \(change.id) was still \(status) (the UPSERT was accepted; a retry repeats it harmlessly)"
                )
            }
            try await Task.sleep(for: o.pollInterval)
        }
    }
}

/// A change as Route 53 answers `ChangeResourceRecordSets`.
struct Route53Change: Sendable {
    /// The id without `/change/` (`C2682N5HXP0BZ4`).
    let id: String
    /// `PENDING` or `INSYNC`.
    let status: String
}

/// A record set as `ListResourceRecordSets` shows it.
struct Route53RecordSet: Sendable {
    let name: String
    let type: String
    let ttl: Int64?
    let values: [String]

    /// Whether it holds exactly `o`'s values (in any order) with `o`'s TTL.
    func matches(_ o: Route53Options) -> Bool {
        func norm(_ v: String) -> String { (v.hasSuffix(".") ? String(v.dropLast()) : v).lowercased() }
        return ttl == o.ttl.wholeSeconds && values.map(norm).sorted() == o.values.map(norm).sorted()
    }
}
