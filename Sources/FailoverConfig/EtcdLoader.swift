import FailoverCore
import Foundation

/// Reads `coordination:` with `backend: etcd`.
///
/// ```yaml
/// coordination:
///   backend: etcd
///   members: [us-east-1, us-west-2, eu-west-1]   # controller ids that vote
///   quorum: 2                                     # optional; default: majority of members
///   etcd:
///     endpoints: [http://127.0.0.1:2379, http://127.0.0.1:22379]
///     prefix: /failoverctl/prod
///     lease_ttl: 5s
///     timeout: 1s          # per request and endpoint
///     poll: 100ms          # how often votes and leadership are read
///     ca_file: /etc/failoverctl/etcd-ca.pem
///     cert_file: /etc/failoverctl/etcd-client.pem
///     key_file: /etc/failoverctl/etcd-client-key.pem
/// ```
struct EtcdLoader {
    let reader: YAMLReader
    /// This controller's id, which must be one of the members.
    let id: String
    let baseDir: String
    let resolve: (String, String) -> String

    func load() throws -> EtcdConfig {
        try reader.rejectUnknown(["backend", "members", "quorum", "etcd"])
        let members = try loadMembers()
        let quorum = try reader.int("quorum", range: 1...max(members.count, 1))
        if let quorum, quorum <= members.count / 2 {
            throw reader.error(
                "quorum",
                "\(quorum) of \(members.count) members is not a majority: two halves could each decide (use at least \(members.count / 2 + 1))")
        }
        guard let etcd = try reader.object("etcd") else { throw reader.error("etcd", "is required with backend: etcd (endpoints, prefix, lease_ttl)") }
        try etcd.rejectUnknown(["endpoints", "prefix", "lease_ttl", "timeout", "poll", "ca_file", "cert_file", "key_file"])
        let endpoints = try loadEndpoints(etcd)
        let prefix = try loadPrefix(etcd)
        let ttl = try etcd.duration("lease_ttl") ?? .seconds(5)
        guard ttl >= .seconds(2), ttl.milliseconds % 1000 == 0 else {
            throw etcd.error("lease_ttl", "must be whole seconds, at least 2s (etcd leases count in seconds)")
        }
        let timeout = try etcd.duration("timeout") ?? .seconds(1)
        // A keepalive goes out a third of the TTL after the last one and may try every
        // endpoint in turn: that must end before the lease does.
        guard timeout * endpoints.count * 3 < ttl * 2 else {
            throw etcd.error(
                "timeout",
                "\(timeout.text) per endpoint × \(endpoints.count) endpoints would outlast lease_ttl \(ttl.text) after a keepalive is due (keep timeout × endpoints under two thirds of lease_ttl)")
        }
        let poll = try etcd.duration("poll") ?? .milliseconds(100)
        guard poll >= .milliseconds(20), poll * 3 <= ttl else {
            throw etcd.error("poll", "\(poll.text) must be at least 20ms and at most a third of lease_ttl \(ttl.text)")
        }
        let caFile = try file(etcd, "ca_file")
        let certFile = try file(etcd, "cert_file")
        let keyFile = try file(etcd, "key_file")
        if (certFile == nil) != (keyFile == nil) {
            throw etcd.error(certFile == nil ? "cert_file" : "key_file", "cert_file and key_file go together (client TLS needs both)")
        }
        return EtcdConfig(
            members: members, quorum: quorum, endpoints: endpoints, prefix: prefix, leaseTTL: ttl, timeout: timeout, poll: poll,
            caFile: caFile, certFile: certFile, keyFile: keyFile)
    }

    private func loadMembers() throws -> [String] {
        guard let nodes = try reader.sequence("members"), !nodes.isEmpty else {
            throw reader.error("members", "is required with backend: etcd: the ids of the controllers that vote")
        }
        var members: [String] = []
        for (index, node) in nodes.enumerated() {
            let text = try reader.scalarText(node, key: "members[\(index)]")
            guard NameRule.isValid(text, dots: true) else {
                throw reader.error("members", "\"\(text)\" \(NameRule.explanation(dots: true))", node: node)
            }
            guard !members.contains(text) else { throw reader.error("members", "\"\(text)\" is listed twice", node: node) }
            members.append(text)
        }
        guard members.contains(id) else {
            throw reader.error("members", "this controller's id \"\(id)\" is not one of the members (\(members.joined(separator: ", "))): its votes would not count")
        }
        return members
    }

    private func loadEndpoints(_ etcd: YAMLReader) throws -> [String] {
        guard let nodes = try etcd.sequence("endpoints"), !nodes.isEmpty else {
            throw etcd.error("endpoints", "is required: the client URLs of the etcd members, e.g. [http://127.0.0.1:2379]")
        }
        return try nodes.enumerated().map { index, node in
            let text = try etcd.scalarText(node, key: "endpoints[\(index)]")
            guard let url = URLComponents(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false,
                url.path.isEmpty || url.path == "/", url.user == nil, url.password == nil
            else {
                throw etcd.error("endpoints", "\"\(text)\" is not an http:// or https:// URL of an etcd member (scheme, host and port only)", node: node)
            }
            return text.hasSuffix("/") ? String(text.dropLast()) : text
        }
    }

    private func loadPrefix(_ etcd: YAMLReader) throws -> String {
        var prefix = try etcd.nonEmptyString("prefix") ?? "/failoverctl"
        while prefix.hasSuffix("/") && prefix.count > 1 { prefix.removeLast() }
        guard prefix.hasPrefix("/"), prefix.count > 1, !prefix.contains("//"),
            prefix.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 })
        else {
            throw etcd.error("prefix", "\"\(prefix)\" must start with / and name a key prefix of printable ASCII, e.g. /failoverctl/prod")
        }
        return prefix
    }

    /// A readable file, resolved against the config file's directory.
    private func file(_ etcd: YAMLReader, _ key: String) throws -> String? {
        guard let text = try etcd.nonEmptyString(key) else { return nil }
        let path = resolve(text, baseDir)
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw etcd.error(key, "\(path) is not a readable file")
        }
        return path
    }
}
