import FailoverCore
import Foundation

/// Reads a site action's `elbv2:` options.
///
/// ```yaml
/// drain: { elbv2: { target_group_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/abc",
///                   targets: [{ id: 10.0.0.5, port: 80 }], region: us-east-1,
///                   endpoint: "http://127.0.0.1:5000" } }
/// ```
/// Credentials come from the `AWS_*` environment variables, never from options.
struct ELBv2Loader {
    /// The `elbv2:` mapping.
    let reader: YAMLReader

    static let keys: Set<String> = ["target_group_arn", "targets", "region", "endpoint"]
    static let targetKeys: Set<String> = ["id", "port"]

    func load() throws -> ELBv2Options {
        try reader.rejectUnknown(Self.keys)
        guard let arn = try reader.nonEmptyString("target_group_arn") else {
            throw reader.error("target_group_arn", "is required: the target group's ARN")
        }
        guard arn.hasPrefix("arn:"), arn.contains(":targetgroup/"), !arn.contains(where: \.isWhitespace) else {
            throw reader.error(
                "target_group_arn",
                "\"\(arn)\" is not a target group ARN (arn:aws:elasticloadbalancing:…:targetgroup/…)")
        }
        var options = ELBv2Options(targetGroupARN: arn, targets: try targets())
        options.region = try reader.identifier("region", extra: "-") ?? options.region
        options.endpoint = try reader.apiURL("endpoint")
        return options
    }

    /// `targets: [{id, port}]`: at least one, no duplicates.
    private func targets() throws -> [ELBv2Options.Target] {
        guard let nodes = try reader.sequence("targets"), !nodes.isEmpty else {
            throw reader.error(
                "targets", "is required: this site's targets, e.g. targets: [{ id: 10.0.0.5, port: 80 }]")
        }
        var out: [ELBv2Options.Target] = []
        for (index, node) in nodes.enumerated() {
            let item = try YAMLReader(
                node: node, file: reader.file, path: reader.keyPath("targets[\(index)]"),
                interpolator: reader.interpolator)
            try item.rejectUnknown(Self.targetKeys)
            guard let id = try item.nonEmptyString("id") else {
                throw item.error("id", "is required: an instance id or IP address")
            }
            guard id.count <= 128, id.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f })
            else { throw item.error("id", "\"\(id)\" is not a target id (printable ASCII, no spaces)") }
            let target = ELBv2Options.Target(id: id, port: try item.int("port", range: 1...65_535))
            guard !out.contains(target) else { throw reader.error("targets", "lists \(target) twice", node: node) }
            out.append(target)
        }
        return out
    }
}
