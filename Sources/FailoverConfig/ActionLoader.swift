import FailoverCore
import Foundation
import Yams

/// Reads a site file's `actions:`: for each step kind (drain, fence, promote, dns), the plugin
/// that performs it for this site.
///
/// ```yaml
/// actions:
///   drain: { exec: ["/usr/local/bin/drain", "east"] }
///   fence: { haproxy: { admin: tcp:127.0.0.1:9999, backend: web, server: east, mode: maint } }
///   dns:   { powerdns: { api: http://127.0.0.1:8081, key: "${PDNS_API_KEY}", zone: example.test.,
///                        name: app.example.test., content: 127.0.0.1 } }
/// ```
///
/// Each value holds exactly one plugin key, whose value is that plugin's options.
/// `spec(plugin:_:)` is the one place that knows the plugins: a new plugin is a new case there
/// (and in `plugins`); the LB and DNS plugins' options are read by `HAProxyLoader`,
/// `PowerDNSLoader` and `CloudflareLoader`.
struct ActionLoader {
    /// The site file's reader.
    let site: YAMLReader

    /// The plugins this version knows, as written in the config.
    static let plugins = ["exec", "haproxy", "powerdns", "cloudflare", "postgres", "route53", "elbv2"]

    func load() throws -> [StepKind: ActionSpec] {
        guard let actions = try site.object("actions") else { return [:] }
        var specs: [StepKind: ActionSpec] = [:]
        for key in actions.keys {
            let kind = try stepKind(key, actions)
            guard let action = try actions.object(key) else {
                throw actions.error(key, "needs a plugin, e.g. \(key): {exec: [\"/usr/local/bin/\(key)\"]}")
            }
            let keys = action.keys
            guard keys.count == 1, let plugin = keys.first else {
                let found = keys.isEmpty ? "" : " (found \(keys.joined(separator: ", ")))"
                throw actions.error(
                    key, "needs exactly one plugin key, one of: \(Self.plugins.joined(separator: ", "))\(found)")
            }
            specs[kind] = try spec(plugin: plugin, action)
            try PostgresLoader.checkKind(kind, specs[kind], key: key, actions)
        }
        return specs
    }

    /// The step kind an `actions:` key names; only kinds that act through a site's handles.
    private func stepKind(_ key: String, _ actions: YAMLReader) throws -> StepKind {
        let known = StepKind.siteActionKinds.map(\.rawValue).joined(separator: ", ")
        switch StepKind(rawValue: key) {
        case .verify?:
            throw actions.error(
                key, "verify is not a site action: the verify step probes the target's checks (actions are: \(known))")
        case .exec?:
            throw actions.error(
                key, "exec is not a site action: write exec steps in a group's plan (actions are: \(known))")
        case let kind?:
            return kind
        case nil:
            throw actions.error(key, "unknown action (expected one of: \(known))")
        }
    }

    /// The one switch on plugin names: each case reads its plugin's options under its key.
    private func spec(plugin: String, _ action: YAMLReader) throws -> ActionSpec {
        switch plugin {
        case "exec":
            guard let command = try action.command("exec") else {
                throw action.error("exec", "needs a command (argv), e.g. [\"/usr/local/bin/drain\", \"east\"]")
            }
            return .exec(command: command)
        case "haproxy":
            return .haproxy(try HAProxyLoader(reader: options(plugin, action)).load())
        case "powerdns":
            return .powerdns(try PowerDNSLoader(reader: options(plugin, action)).load())
        case "cloudflare":
            return .cloudflare(try CloudflareLoader(reader: options(plugin, action)).load())
        case "postgres":
            return .postgres(try PostgresLoader(reader: options(plugin, action)).load())
        case "route53":
            return .route53(try Route53Loader(reader: options(plugin, action)).load())
        case "elbv2":
            return .elbv2(try ELBv2Loader(reader: options(plugin, action)).load())
        default:
            throw action.error(plugin, "unknown plugin (known: \(Self.plugins.joined(separator: ", ")))")
        }
    }

    /// The options mapping under a plugin's key.
    private func options(_ plugin: String, _ action: YAMLReader) throws -> YAMLReader {
        guard let options = try action.object(plugin) else {
            throw action.error(plugin, "needs its options, e.g. \(plugin): { ... } (see docs/config.md)")
        }
        return options
    }
}
