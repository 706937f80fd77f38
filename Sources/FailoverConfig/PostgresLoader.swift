import FailoverCore
import Foundation

/// Reads a site action's `postgres:` options, and a check's `postgres:` DSN.
///
/// ```yaml
/// fence:   { postgres: { dsn: "postgres://postgres:${PGPASSWORD}@10.0.0.5:5432/postgres", mode: read_only } }
/// promote: { postgres: { dsn: "host=10.0.0.5 port=5432 user=postgres", promote_timeout: 60s, max_lag: 16MB } }
/// ```
///
/// ```yaml
/// fence:   { postgres: { dsn: "...", mode: stop, host: { ssh: postgres@db-east, data_directory: /var/lib/postgresql/15/main } } }
/// ```
///
/// Only `fence` and `promote` can use the plugin (a `rejoin` plan step uses the old
/// primary's, which needs a `host`). Errors never quote the DSN's password:
/// they show it redacted (`PostgresDSN.redacted`).
struct PostgresLoader {
    /// The `postgres:` mapping.
    let reader: YAMLReader

    static let keys: Set<String> = [
        "dsn", "mode", "promote_timeout", "max_lag", "fence_roles", "host", "primary_conninfo",
    ]
    /// The steps the plugin performs.
    static let kinds: [StepKind] = [.fence, .promote]

    func load() throws -> PostgresOptions {
        try reader.rejectUnknown(Self.keys)
        var options = PostgresOptions(dsn: try Self.dsn("dsn", reader))
        options.mode = try reader.choice("mode") ?? options.mode
        if let timeout = try reader.duration("promote_timeout") {
            guard timeout >= .seconds(1), timeout <= .seconds(86_400) else {
                throw reader.error("promote_timeout", "\(timeout.text) is outside 1s...24h (pg_promote waits whole seconds)")
            }
            options.promoteTimeout = timeout
        }
        options.maxLag = try reader.byteSize("max_lag")
        options.fenceRoles = try fenceRoles()
        if let host = try reader.object("host") { options.host = try DatabaseHostLoader(reader: host).load() }
        if options.mode == .stop, options.host == nil {
            throw reader.error("mode", "stop needs a host block (how to reach the database's host to stop the server)")
        }
        if reader.has("primary_conninfo") { options.primaryConninfo = try Self.dsn("primary_conninfo", reader) }
        return options
    }

    /// `fence_roles`: a list of PostgreSQL role names (letters, digits, `_`, `$`, `-`, `.`).
    private func fenceRoles() throws -> [String] {
        guard let nodes = try reader.sequence("fence_roles") else { return [] }
        return try nodes.map { node in
            let name = try reader.scalarText(node, key: "fence_roles")
            let allowed = !name.isEmpty && name.count <= 63
                && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_$-.".contains($0)) }
            guard allowed else {
                throw reader.error("fence_roles", "\"\(name)\" is not a role name (letters, digits, _ $ - ., at most 63)", node: node)
            }
            return name
        }
    }

    /// Throws unless a `postgres` action is configured for a step it can perform.
    static func checkKind(_ kind: StepKind, _ spec: ActionSpec?, key: String, _ actions: YAMLReader) throws {
        guard case .postgres? = spec, !kinds.contains(kind) else { return }
        throw actions.error(
            key, "the postgres plugin only performs fence and promote (a database is not drained or named in DNS)")
    }

    /// A libpq DSN under `key`: a `postgres://` / `postgresql://` URI with a valid port, or
    /// `key=value` pairs. Shown redacted in errors.
    static func dsn(_ key: String, _ reader: YAMLReader) throws -> String {
        guard let dsn = try reader.nonEmptyString(key) else {
            throw reader.error(key, "is required, e.g. \(key): \"postgres://postgres@127.0.0.1:5432/postgres\"")
        }
        let shown = PostgresDSN.redacted(dsn)
        guard !dsn.contains(where: \.isNewline) else { throw reader.error(key, "holds a line break") }
        if PostgresDSN.isURI(dsn) {
            guard let parts = URLComponents(string: dsn) else {
                throw reader.error(key, "\"\(shown)\" is not a valid postgres:// URI")
            }
            if let port = parts.port, !(1...65_535).contains(port) {
                throw reader.error(key, "\"\(shown)\" has port \(port), outside 1...65535")
            }
            return dsn
        }
        let pairs = PostgresDSN.pairs(dsn) ?? []
        let valid = !pairs.isEmpty && pairs.allSatisfy { pair in
            !pair.key.isEmpty && pair.key.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") }
        }
        guard valid, dsn.contains("=") else {
            throw reader.error(
                key, "is neither a postgres:// URI nor key=value pairs (host=... port=... user=...); value not shown")
        }
        return dsn
    }
}
