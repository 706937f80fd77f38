import CurlHTTP
import FailoverCore
import Foundation

/// The targets of a group with their states, as `DescribeTargetHealth` shows them.
struct ELBv2Health: Sendable {
    /// (id, port, state) per registered target.
    let entries: [(id: String, port: Int?, state: String)]

    /// The state of `target` (matched on id, and on port when the option names one).
    func state(of target: ELBv2Options.Target) -> String? {
        entries.first { $0.id == target.id && (target.port == nil || $0.port == target.port) }?.state
    }
}

/// The ELBv2 query API calls of the plugin (form-encoded POSTs, `Version=2015-12-01`).
extension ELBv2Action {
    /// Every target of the group with its state.
    func health(_ o: ELBv2Options, _ api: AWSCall) async throws -> ELBv2Health {
        let response = try await call("DescribeTargetHealth", [(name: "TargetGroupArn", value: o.targetGroupARN)], api)
        guard (200..<300).contains(response.status) else {
            throw api.error(response, doing: "DescribeTargetHealth of \(Self.groupName(o.targetGroupARN))")
        }
        guard let root = AWSXMLNode.parse(response.body), let result = root.first("TargetHealthDescriptions") else {
            throw ActionError.failed("\(api.http.service) answered DescribeTargetHealth with something unexpected")
        }
        let entries = result.children("member").compactMap { member -> (id: String, port: Int?, state: String)? in
            guard let id = member.string("Target", "Id") else { return nil }
            let port = member.string("Target", "Port").flatMap { Int($0) }
            return (id, port, member.string("TargetHealth", "State") ?? "unknown")
        }
        return ELBv2Health(entries: entries)
    }

    /// `RegisterTargets` or `DeregisterTargets` of `targets`.
    func change(_ action: String, _ targets: [ELBv2Options.Target], _ o: ELBv2Options, _ api: AWSCall) async throws {
        var parameters = [(name: "TargetGroupArn", value: o.targetGroupARN)]
        for (index, target) in targets.enumerated() {
            parameters.append((name: "Targets.member.\(index + 1).Id", value: target.id))
            if let port = target.port {
                parameters.append((name: "Targets.member.\(index + 1).Port", value: "\(port)"))
            }
        }
        let response = try await call(action, parameters, api)
        guard (200..<300).contains(response.status) else {
            throw api.error(response, doing: "\(action) in \(Self.groupName(o.targetGroupARN))")
        }
    }

    /// One signed form POST to `/`.
    private func call(
        _ action: String, _ parameters: [(name: String, value: String)], _ api: AWSCall
    ) async throws -> HTTPResponse {
        let form = [(name: "Action", value: action), (name: "Version", value: Self.version)] + parameters
        let body = Data(SigV4.canonicalQuery(form).utf8)
        return try await api.send(
            .post, path: "/", body: body, contentType: "application/x-www-form-urlencoded; charset=utf-8")
    }
}
