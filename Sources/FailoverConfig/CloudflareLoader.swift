import FailoverCore
import Foundation

/// Reads a site action's `cloudflare:` options: a DNS record, a load-balancer pool origin,
/// or both.
///
/// ```yaml
/// dns: { cloudflare: { zone_id: "023e105f4ecef8ad9ca31a8372d0c353", name: app.example.com, type: A,
///                      content: 203.0.113.7, ttl: 60, token: "${CF_API_TOKEN}",
///                      pool: { account_id: "…", pool_id: "…", origin: east, enabled: true } } }
/// ```
struct CloudflareLoader {
    /// The `cloudflare:` mapping.
    let reader: YAMLReader

    static let keys: Set<String> = ["api", "token", "zone_id", "name", "type", "content", "ttl", "pool"]
    static let recordKeys = ["zone_id", "name", "type", "content", "ttl"]
    static let poolKeys: Set<String> = ["account_id", "pool_id", "origin", "enabled"]

    func load() throws -> CloudflareOptions {
        try reader.rejectUnknown(Self.keys)
        let api = try reader.apiURL("api") ?? CloudflareOptions.defaultAPI
        let token = try reader.secret("token", example: "${CF_API_TOKEN}")
        var options = CloudflareOptions(api: api, token: token)
        if Self.recordKeys.contains(where: reader.has) { options.record = try record() }
        if let pool = try reader.object("pool") { options.pool = try Self.pool(pool) }
        guard options.record != nil || options.pool != nil else {
            throw reader.error("name", "is required: a DNS record (zone_id, name, content) or a pool to change")
        }
        return options
    }

    private func record() throws -> CloudflareOptions.Record {
        guard let zoneID = try reader.identifier("zone_id", maxLength: 64) else {
            throw reader.error("zone_id", "is required with a DNS record: the zone's id from the dashboard")
        }
        guard let name = try reader.dnsName("name") else {
            throw reader.error("name", "is required with a DNS record, e.g. name: app.example.com")
        }
        let type = try reader.recordType("type")
        var record = CloudflareOptions.Record(
            zoneID: zoneID, name: name, type: type, content: try reader.recordContent("content", type: type))
        record.ttl = try reader.ttl("ttl", range: 1...86_400, hint: "1 (automatic) or 60...86400 seconds")
        if let ttl = record.ttl, ttl != .seconds(1), ttl < .seconds(60) {
            throw reader.error("ttl", "\(ttl.wholeSeconds)s is out of range: 1 (automatic) or 60...86400 seconds")
        }
        return record
    }

    private static func pool(_ r: YAMLReader) throws -> CloudflareOptions.PoolOrigin {
        try r.rejectUnknown(poolKeys)
        guard let account = try r.identifier("account_id", maxLength: 64) else {
            throw r.error("account_id", "is required")
        }
        guard let pool = try r.identifier("pool_id", maxLength: 64) else { throw r.error("pool_id", "is required") }
        guard let origin = try r.nonEmptyString("origin") else {
            throw r.error("origin", "is required: the name of this site's origin in the pool")
        }
        guard let enabled = try r.bool("enabled") else {
            throw r.error("enabled", "is required: true to send this origin traffic, false to stop it")
        }
        return CloudflareOptions.PoolOrigin(accountID: account, poolID: pool, origin: origin, enabled: enabled)
    }
}
