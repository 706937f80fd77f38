import Foundation

/// What a name (controller id, site or check name) may contain: these names end up in
/// metric labels, file names and log lines.
enum NameRule {
    /// Whether `text` is 1...63 ASCII letters, digits, `-`, `_` (and `.` when `dots`).
    static func isValid(_ text: String, dots: Bool) -> Bool {
        guard (1...63).contains(text.unicodeScalars.count) else { return false }
        return text.unicodeScalars.allSatisfy { c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_" || (dots && c == "."))
        }
    }

    /// The rule in words, for error messages.
    static func explanation(dots: Bool) -> String {
        dots
            ? "may hold only letters, digits, '.', '-' and '_' (at most 63)"
            : "may hold only letters, digits, '-' and '_' (at most 63)"
    }
}

/// What a probe or listen host may be: an IPv4 or IPv6 literal or a DNS name.
enum HostRule {
    /// Whether `host` is an IP literal (v4 or v6, without brackets) or a DNS host name.
    static func isValid(_ host: String) -> Bool {
        isIPLiteral(host) || isDNSName(host)
    }

    /// Whether `host` parses as an IPv4 or IPv6 address.
    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Whether `host` is dot-separated labels of letters, digits and inner hyphens.
    static func isDNSName(_ host: String) -> Bool {
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        // An all-digit last label is a mistyped IP address (`256.0.0.1`), not a name.
        guard let last = labels.last, !last.allSatisfy(\.isNumber) else { return false }
        return labels.allSatisfy { label in
            guard (1...63).contains(label.utf8.count), !label.hasPrefix("-"), !label.hasSuffix("-") else { return false }
            return label.unicodeScalars.allSatisfy { c in
                c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_")
            }
        }
    }
}
