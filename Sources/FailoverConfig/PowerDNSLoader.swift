import FailoverCore
import Foundation

/// Reads a site action's `powerdns:` options.
///
/// ```yaml
/// dns: { powerdns: { api: http://127.0.0.1:8081, key: "${PDNS_API_KEY}", zone: example.test.,
///                    name: app.example.test., type: A, ttl: 30, content: 127.0.0.1,
///                    server: localhost, verify_dns: 127.0.0.1:5300, verify_timeout: 10s } }
/// ```
struct PowerDNSLoader {
    /// The `powerdns:` mapping.
    let reader: YAMLReader

    static let keys: Set<String> = [
        "api", "key", "server", "zone", "name", "type", "ttl", "content", "verify_dns", "verify_timeout",
    ]

    func load() throws -> PowerDNSOptions {
        try reader.rejectUnknown(Self.keys)
        guard let api = try reader.apiURL("api") else {
            throw reader.error("api", "is required: the PowerDNS API's base URL, e.g. http://127.0.0.1:8081")
        }
        let key = try reader.secret("key", example: "${PDNS_API_KEY}")
        let (zone, name) = try zoneAndName()
        let type = try reader.recordType("type")
        let content = try reader.recordContent("content", type: type)
        var options = PowerDNSOptions(
            api: api, key: key, zone: zone, name: name, type: type, content: type == .cname ? content + "." : content)
        options.server = try reader.identifier("server", extra: "-_.") ?? options.server
        options.ttl = try reader.ttl("ttl", range: 1...2_147_483_647, hint: "1...2147483647 seconds")
        try loadVerification(&options)
        return options
    }

    /// The zone and the record's name, both fully qualified (trailing dot), the name inside the zone.
    private func zoneAndName() throws -> (zone: String, name: String) {
        guard let zone = try reader.dnsName("zone") else {
            throw reader.error("zone", "is required, e.g. zone: example.test.")
        }
        guard let name = try reader.dnsName("name") else {
            throw reader.error("name", "is required, e.g. name: app.\(zone).")
        }
        let z = zone.lowercased(), n = name.lowercased()
        guard n == z || n.hasSuffix("." + z) else { throw reader.error("name", "\(name). is not in zone \(zone).") }
        return (zone + ".", name + ".")
    }

    private func loadVerification(_ options: inout PowerDNSOptions) throws {
        if let text = try reader.nonEmptyString("verify_dns") {
            guard let address = ListenAddress(text: text), HostRule.isIPLiteral(address.host) else {
                throw reader.error(
                    "verify_dns", "\"\(text)\" is not IP:PORT (the DNS server to ask, e.g. 127.0.0.1:53)")
            }
            options.verifyDNS = address
        }
        if let timeout = try reader.duration("verify_timeout") {
            guard options.verifyDNS != nil else { throw reader.error("verify_timeout", "only applies with verify_dns") }
            options.verifyTimeout = timeout
        }
    }
}
