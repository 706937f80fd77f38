import CurlHTTP
import FailoverCore
import Foundation
import Logging

/// Takes a site's targets out of, or puts them back into, an AWS ELBv2 target group, for an
/// `elbv2` action: `drain` and `fence` call `DeregisterTargets`, `promote` and `dns` (the
/// site is the target of a failover or failback) call `RegisterTargets`; then
/// `DescribeTargetHealth` verifies the result.
///
/// Guarantees, beyond `ActionPlugin`'s:
/// - Idempotent: it reads the group's targets first and only sends the call for targets not
///   yet in the wanted state ("already" in `changed` when none is).
/// - Verified: after deregistration every target is absent or `draining`/`unused`; after
///   registration every target is present and not `draining`. Otherwise a retryable
///   failure names the target and its state.
/// - Credentials come from the `AWS_*` environment at action time, as for `route53`; a
///   missing one is a permanent error naming the variable. No secret reaches an error,
///   report or log. `Throttling`, 429, 5xx and network trouble are retryable; other AWS
///   errors (`TargetGroupNotFound`, `InvalidTarget`, 403) are permanent with AWS's code.
public struct ELBv2Action: ActionPlugin {
    /// The query API's version.
    static let version = "2015-12-01"

    private let engine: CurlEngine
    private let environment: @Sendable () -> [String: String]
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// Creates the plugin; `environment` is read at each attempt and `now` gives the
    /// signing time.
    public init(
        engine: CurlEngine = .shared,
        environment: @escaping @Sendable () -> [String: String] = { ProcessInfo.processInfo.environment },
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "failoverctl.actions.elbv2")
    ) {
        self.engine = engine
        self.environment = environment
        self.now = now
        self.logger = logger
    }

    /// Deregisters or registers the targets (unless already so) and verifies; see the type's
    /// guarantees.
    public func perform(_ request: ActionRequest) async throws -> ActionReport {
        guard case .plugin(let spec) = request.step.action, case .elbv2(let o) = spec else {
            throw ActionError.permanent("the elbv2 plugin cannot run \(request.step.summary)")
        }
        let credentials = try AWSCredentials.fromEnvironment(environment())
        let http = PluginHTTP(
            engine: engine, service: "ELBv2 at \(Redaction.url(o.resolvedEndpoint))",
            secrets: credentials.secrets + spec.secrets, deadline: ContinuousClock.now + request.timeout,
            limit: request.timeout)
        let api = AWSCall(
            http: http, credentials: credentials, endpoint: o.resolvedEndpoint, region: o.region,
            service: "elasticloadbalancing", now: now)
        let register = !request.step.kind.actsOnOldPrimary
        let group = Self.groupName(o.targetGroupARN)
        let before = try await health(o, api)
        let pending = o.targets.filter { register ? !Self.isIn(before.state(of: $0)) : Self.isIn(before.state(of: $0)) }
        var changed: [String] = []
        let list = { (targets: [ELBv2Options.Target]) in targets.map(\.description).joined(separator: ", ") }
        if pending.isEmpty {
            changed.append("\(list(o.targets)) already \(register ? "registered in" : "out of") target group \(group)")
        } else {
            try await change(register ? "RegisterTargets" : "DeregisterTargets", pending, o, api)
            changed.append(
                "\(register ? "registered" : "deregistered") \(list(pending)) \(register ? "in" : "from") target group \(group)"
            )
        }
        changed.append(try await verify(register: register, o, api, group: group))
        logger.debug("elbv2: \(changed.joined(separator: "; "))")
        return ActionReport(changed: changed)
    }

    /// Whether a target in `state` takes part in the group (registered and not leaving).
    static func isIn(_ state: String?) -> Bool {
        guard let state else { return false }
        return state != "draining"
    }

    /// The sentence describing the verified state, or a retryable failure.
    private func verify(register: Bool, _ o: ELBv2Options, _ api: AWSCall, group: String) async throws -> String {
        let after = try await health(o, api)
        var wrong: [String] = []
        for target in o.targets {
            let state = after.state(of: target)
            if register, !Self.isIn(state) { wrong.append("\(target) is \(state ?? "absent")") }
            if !register, let state, !["draining", "unused"].contains(state) { wrong.append("\(target) is \(state)") }
        }
        guard wrong.isEmpty else {
            throw ActionError.failed(
                "target group \(group) does not show the change yet: \(wrong.joined(separator: ", "))", retryable: true)
        }
        let states = o.targets.map { "\($0) \(after.state(of: $0) ?? "absent")" }.joined(separator: ", ")
        return "DescribeTargetHealth: \(states)"
    }

    /// `targetgroup/web/abc` → `web`; the ARN itself when it has no such part.
    static func groupName(_ arn: String) -> String {
        guard let range = arn.range(of: ":targetgroup/") else { return arn }
        return arn[range.upperBound...].split(separator: "/").first.map(String.init) ?? arn
    }
}
