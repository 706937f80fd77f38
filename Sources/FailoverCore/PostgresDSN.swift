import Foundation

/// A libpq connection string as the `postgres` plugin and check take it: a URI
/// (`postgres://user:pass@host:port/db?...`) or `key=value` pairs (`host=... password=...`).
/// The password is a secret: `redacted` removes it, `secrets` lists it for scrubbing.
public enum PostgresDSN {
    /// Whether `dsn` is written as a URI (`postgres://` or `postgresql://`).
    public static func isURI(_ dsn: String) -> Bool {
        dsn.hasPrefix("postgres://") || dsn.hasPrefix("postgresql://")
    }

    /// `dsn` safe to show: a URI without its user info's password or secret query values,
    /// `key=value` pairs without the `password` pair's value.
    public static func redacted(_ dsn: String) -> String {
        if isURI(dsn) { return Redaction.url(dsn) }
        guard let pairs = pairs(dsn) else { return "<unreadable DSN>" }
        return pairs.map { $0.key == "password" ? "password=REDACTED" : "\($0.key)=\($0.raw)" }.joined(separator: " ")
    }

    /// The password(s) `dsn` holds (as written and decoded), for `Redaction.scrub`.
    public static func secrets(_ dsn: String) -> [String] {
        if isURI(dsn) {
            let query = URLComponents(string: dsn)?.queryItems?.filter { $0.name == "password" }.compactMap(\.value)
            let credentials = URLComponents(string: dsn).map { [$0.password, $0.percentEncodedPassword] } ?? []
            return credentials.compactMap { $0 } + (query ?? [])
        }
        return (pairs(dsn) ?? []).filter { $0.key == "password" }.flatMap { [$0.value, $0.raw] }
    }

    /// The `key=value` pairs of a non-URI DSN (values unquoted in `value`, as written in `raw`);
    /// nil when some text is not a `key=value` pair.
    public static func pairs(_ dsn: String) -> [(key: String, value: String, raw: String)]? {
        var result: [(key: String, value: String, raw: String)] = []
        var rest = Substring(dsn)
        while true {
            rest = rest.drop(while: \.isWhitespace)
            if rest.isEmpty { break }
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces)
            rest = rest[rest.index(after: equals)...].drop(while: \.isWhitespace)
            let (value, raw, remaining) = Self.value(rest)
            result.append((key, value, raw))
            rest = remaining
        }
        return result
    }

    private static func value(_ text: Substring) -> (String, String, Substring) {
        guard text.first == "'" else {
            let end = text.firstIndex(where: \.isWhitespace) ?? text.endIndex
            return (String(text[..<end]), String(text[..<end]), text[end...])
        }
        var value = "", index = text.index(after: text.startIndex)
        while index < text.endIndex, text[index] != "'" {
            if text[index] == "\\", text.index(after: index) < text.endIndex { index = text.index(after: index) }
            value.append(text[index])
            index = text.index(after: index)
        }
        let end = index < text.endIndex ? text.index(after: index) : index
        return (value, String(text[..<end]), text[end...])
    }
}

/// A `postgres` check: connect with `dsn`, read the role (`pg_is_in_recovery()`) and, on a
/// replica, its replay lag. It passes when the query answers; `maxLag`, when set, also
/// fails a replica lagging more bytes than that.
public struct PostgresCheck: Sendable, Equatable {
    /// The libpq connection string (its password is a secret).
    public var dsn: String
    /// When set, a replica whose receive−replay lag exceeds this many bytes fails the check.
    public var maxLag: Int64?

    /// Creates a check.
    public init(dsn: String, maxLag: Int64? = nil) {
        self.dsn = dsn
        self.maxLag = maxLag
    }
}
