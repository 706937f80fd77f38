import FailoverCore
import Foundation

/// Readers for values the LB and DNS plugins share: API URLs, secrets, identifiers, DNS
/// names, TTLs and record contents. Errors never quote a secret.
extension YAMLReader {
    /// An `http://` or `https://` URL with a host; shown redacted in errors.
    func apiURL(_ key: String) throws -> String? {
        guard let url = try nonEmptyString(key) else { return nil }
        let shown = Redaction.url(url)
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
            ["http", "https"].contains(scheme)
        else { throw error(key, "\"\(shown)\" is not an http:// or https:// URL") }
        guard let host = parts.host, !host.isEmpty else { throw error(key, "\"\(shown)\" has no host") }
        if let port = parts.port, !(1...65_535).contains(port) {
            throw error(key, "\"\(shown)\" has port \(port), outside 1...65535")
        }
        guard parts.query == nil, parts.fragment == nil else {
            throw error(key, "\"\(shown)\" must be a base URL, without ?query or #fragment")
        }
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// A required secret (API key, token): non-empty, printable ASCII without spaces, since it
    /// travels in an HTTP header. Errors name the key and never the value.
    func secret(_ key: String, example: String) throws -> String {
        guard has(key) else { throw error(key, "is required, e.g. \(key): \"\(example)\"") }
        guard let value = try string(key), !value.isEmpty else {
            throw error(key, "is empty (check the environment variable it names)")
        }
        guard value.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }) else {
            throw error(key, "holds a space, a line break or a non-ASCII character (value not shown)")
        }
        return value
    }

    /// An identifier the plugin puts in a URL or a command line: 1...`maxLength` ASCII
    /// letters, digits and `extra` characters.
    func identifier(_ key: String, extra: String = "-_", maxLength: Int = 64) throws -> String? {
        guard let value = try nonEmptyString(key) else { return nil }
        let valid =
            value.count <= maxLength
            && value.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || extra.unicodeScalars.contains($0))
            }
        guard valid else {
            let allowed = extra.map { "'\($0)'" }.joined(separator: ", ")
            throw error(key, "\"\(value)\" may hold only letters, digits and \(allowed) (at most \(maxLength))")
        }
        return value
    }

    /// A DNS name (letters, digits, `-`, `_` labels), returned without a trailing dot.
    func dnsName(_ key: String) throws -> String? {
        guard let value = try nonEmptyString(key) else { return nil }
        guard HostRule.isDNSName(value) else { throw error(key, "\"\(value)\" is not a DNS name") }
        return value.hasSuffix(".") ? String(value.dropLast()) : value
    }

    /// A record type (`A` by default), written in any case.
    func recordType(_ key: String) throws -> DNSRecordType {
        guard let text = try string(key) else { return .a }
        guard let type = DNSRecordType(rawValue: text.uppercased()) else {
            let known = DNSRecordType.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(key, "\"\(text)\" is not one of: \(known)")
        }
        return type
    }

    /// A record's content checked against its type: an IPv4 address for A, IPv6 for AAAA, a
    /// DNS name for CNAME (returned without a trailing dot).
    func recordContent(_ key: String, type: DNSRecordType) throws -> String {
        guard let value = try nonEmptyString(key) else {
            throw error(key, "is required: the value the record gets for this site")
        }
        switch type {
        case .a:
            var v4 = in_addr()
            guard inet_pton(AF_INET, value, &v4) == 1 else { throw error(key, "\"\(value)\" is not an IPv4 address") }
        case .aaaa:
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, value, &v6) == 1 else { throw error(key, "\"\(value)\" is not an IPv6 address") }
        case .cname:
            guard HostRule.isDNSName(value) else { throw error(key, "\"\(value)\" is not a DNS name") }
            return value.hasSuffix(".") ? String(value.dropLast()) : value
        }
        return value
    }

    /// A TTL: whole seconds as DNS writes them (`30`) or a duration (`30s`, `5m`), in `range`
    /// seconds.
    func ttl(_ key: String, range: ClosedRange<Int64>, hint: String) throws -> Duration? {
        guard let text = try string(key) else { return nil }
        let seconds: Int64?
        if let whole = Int64(text) {
            seconds = whole
        } else if let duration = Duration(text: text), duration.components.attoseconds == 0 {
            seconds = duration.components.seconds
        } else {
            seconds = nil
        }
        guard let seconds else {
            throw error(key, "\"\(text)\" is not a TTL (whole seconds, e.g. 30 or 30s or 5m)")
        }
        guard range.contains(seconds) else { throw error(key, "\(seconds)s is out of range: \(hint)") }
        return .seconds(seconds)
    }
}
