import FailoverCore
import Foundation

/// Reads a site action's `route53:` options.
///
/// ```yaml
/// dns: { route53: { zone_id: Z1D633PJN98FT9, name: app.example.com., type: A, ttl: 30,
///                   value: 203.0.113.7, endpoint: "http://127.0.0.1:5000", region: us-east-1,
///                   poll_interval: 1s } }
/// ```
/// `values: [a, b]` instead of `value` sets several records. There is no credential option:
/// the plugin reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
struct Route53Loader {
    /// The `route53:` mapping.
    let reader: YAMLReader

    static let keys: Set<String> = [
        "zone_id", "name", "type", "ttl", "value", "values", "endpoint", "region", "poll_interval",
    ]

    func load() throws -> Route53Options {
        try reader.rejectUnknown(Self.keys)
        guard var zone = try reader.nonEmptyString("zone_id") else {
            throw reader.error("zone_id", "is required: the hosted zone's id, e.g. zone_id: Z1D633PJN98FT9")
        }
        if zone.hasPrefix("/hostedzone/") { zone.removeFirst("/hostedzone/".count) }
        guard !zone.isEmpty, zone.count <= 32, zone.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw reader.error("zone_id", "\"\(zone)\" is not a hosted zone id (letters and digits)")
        }
        guard let name = try reader.dnsName("name") else {
            throw reader.error("name", "is required, e.g. name: app.example.com.")
        }
        let type = try reader.recordType("type")
        var options = Route53Options(zoneID: zone, name: name + ".", type: type, values: try values(type))
        options.ttl = try reader.ttl("ttl", range: 0...2_147_483_647, hint: "0...2147483647 seconds") ?? options.ttl
        options.endpoint = try reader.apiURL("endpoint") ?? options.endpoint
        options.region = try reader.identifier("region", extra: "-") ?? options.region
        options.pollInterval = try reader.duration("poll_interval") ?? options.pollInterval
        return options
    }

    /// `value: x` or `values: [x, y]`: exactly one of the two, each checked against `type`.
    private func values(_ type: DNSRecordType) throws -> [String] {
        switch (reader.has("value"), reader.has("values")) {
        case (true, true):
            throw reader.error("values", "write either value or values, not both")
        case (true, false):
            return [try reader.recordContent("value", type: type)]
        case (false, false):
            throw reader.error("value", "is required: the value the record gets for this site (or values: [a, b])")
        case (false, true):
            guard let nodes = try reader.sequence("values"), !nodes.isEmpty else {
                throw reader.error("values", "lists no values")
            }
            guard type != .cname || nodes.count == 1 else {
                throw reader.error("values", "a CNAME holds exactly one value")
            }
            var out: [String] = []
            for node in nodes {
                let text = try reader.scalarText(node, key: "values")
                guard let value = RecordValue.check(text, type: type) else {
                    throw reader.error("values", "\"\(text)\" is not a valid \(type.rawValue) value", node: node)
                }
                guard !out.contains(value) else { throw reader.error("values", "lists \(text) twice", node: node) }
                out.append(value)
            }
            return out
        }
    }
}

/// A record value checked against its type (the rule `recordContent` applies to one key).
enum RecordValue {
    /// `text` as stored (a CNAME target without its trailing dot), or nil when invalid.
    static func check(_ text: String, type: DNSRecordType) -> String? {
        switch type {
        case .a:
            var v4 = in_addr()
            return inet_pton(AF_INET, text, &v4) == 1 ? text : nil
        case .aaaa:
            var v6 = in6_addr()
            return inet_pton(AF_INET6, text, &v6) == 1 ? text : nil
        case .cname:
            guard HostRule.isDNSName(text) else { return nil }
            return text.hasSuffix(".") ? String(text.dropLast()) : text
        }
    }
}
