import Foundation

/// Removes secrets from text that may reach logs, events or status output.
public enum Redaction {
    /// Query parameter names whose values are treated as secrets.
    static let secretKeys = ["token", "key", "secret", "password", "passwd", "pass", "auth", "signature", "sig",
        "credential", "apikey", "api_key", "access_token", "code"]

    /// The URL with any `user:password@` removed and secret-looking query values replaced.
    public static func url(_ text: String) -> String {
        guard var parts = URLComponents(string: text) else { return "<unparseable url>" }
        if parts.user != nil || parts.password != nil {
            parts.user = nil
            parts.password = nil
        }
        if let items = parts.queryItems, !items.isEmpty {
            parts.queryItems = items.map { item in
                let name = item.name.lowercased()
                let secret = secretKeys.contains { name.contains($0) }
                return secret ? URLQueryItem(name: item.name, value: "REDACTED") : item
            }
        }
        return parts.string ?? "<unparseable url>"
    }

    /// The secrets a URL carries: its user and password (plain and percent-encoded) and
    /// every query value, for `scrub` of text that may quote the URL.
    public static func secrets(inURL text: String) -> [String] {
        guard let parts = URLComponents(string: text) else { return [] }
        let credentials = [parts.user, parts.password, parts.percentEncodedUser, parts.percentEncodedPassword]
        return credentials.compactMap { $0 } + (parts.queryItems ?? []).compactMap(\.value)
    }

    /// `text` with every occurrence of each secret replaced by `REDACTED`.
    public static func scrub(_ text: String, secrets: [String]) -> String {
        var out = text
        for secret in secrets where secret.count >= 4 {
            out = out.replacingOccurrences(of: secret, with: "REDACTED")
        }
        return out
    }
}
