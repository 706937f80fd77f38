import FailoverCore
import Foundation

extension CloudflareAction {
    /// Sets the pool origin's `enabled` unless it already is; the sentence saying which.
    func update(_ p: CloudflareOptions.PoolOrigin, _ api: CloudflareAPI) async throws -> String {
        let path = "/accounts/\(PluginHTTP.segment(p.accountID))/load_balancers/pools/\(PluginHTTP.segment(p.poolID))"
        let word = p.enabled ? "enabled" : "disabled"
        let pool = try await api.callObject(.get, path, doing: "reading pool \(p.poolID)")
        var origins = pool["origins"] as? [[String: Any]] ?? []
        guard let index = origins.firstIndex(where: { $0["name"] as? String == p.origin }) else {
            let known = origins.compactMap { $0["name"] as? String }.joined(separator: ", ")
            throw ActionError.permanent("Cloudflare pool \(p.poolID) has no origin \(p.origin) (it has: \(known))")
        }
        if Self.isEnabled(origins[index]) == p.enabled {
            return "origin \(p.origin) of pool \(p.poolID) was already \(word)"
        }
        origins[index]["enabled"] = p.enabled
        let body = try JSONSerialization.data(withJSONObject: ["origins": origins])
        let updated = try await api.callObject(.patch, path, body: body, doing: "updating pool \(p.poolID)")
        let after = (updated["origins"] as? [[String: Any]])?.first { $0["name"] as? String == p.origin }
        guard let after, Self.isEnabled(after) == p.enabled else {
            throw ActionError.failed(
                "Cloudflare pool \(p.poolID) does not show origin \(p.origin) \(word) after the update", retryable: true
            )
        }
        return "\(word) origin \(p.origin) of pool \(p.poolID)"
    }

    /// An origin's `enabled` (Cloudflare's default is true).
    static func isEnabled(_ origin: [String: Any]) -> Bool {
        (origin["enabled"] as? Bool) ?? (origin["enabled"] as? NSNumber)?.boolValue ?? true
    }
}
