import FailoverCore
import Foundation

/// Reads a site action's `haproxy:` options.
///
/// ```yaml
/// drain: { haproxy: { admin: tcp:127.0.0.1:9999, backend: web, server: east, mode: drain,
///                     wait_sessions: 10s, timeout: 5s } }
/// ```
struct HAProxyLoader {
    /// The `haproxy:` mapping.
    let reader: YAMLReader

    static let keys: Set<String> = ["admin", "backend", "server", "servers", "mode", "wait_sessions", "timeout"]
    /// Characters HAProxy allows in proxy and server names; none can end a command.
    static let nameCharacters = "-_.:"

    func load() throws -> HAProxyOptions {
        try reader.rejectUnknown(Self.keys)
        guard let adminText = try reader.nonEmptyString("admin") else {
            throw reader.error(
                "admin", "is required, e.g. admin: tcp:127.0.0.1:9999 or admin: unix:/run/haproxy/admin.sock")
        }
        let admin = try Self.admin(adminText, reader)
        guard let backend = try reader.identifier("backend", extra: Self.nameCharacters, maxLength: 127) else {
            throw reader.error("backend", "is required: the backend holding this site's servers")
        }
        var options = HAProxyOptions(admin: admin, backend: backend, servers: try servers())
        options.mode = try reader.choice("mode") ?? .drain
        options.waitSessions = try reader.duration("wait_sessions")
        options.timeout = try reader.duration("timeout") ?? options.timeout
        return options
    }

    /// `server: east` or `servers: [east, east-2]`: exactly one of the two, no duplicates.
    private func servers() throws -> [String] {
        switch (reader.has("server"), reader.has("servers")) {
        case (true, true):
            throw reader.error("servers", "write either server or servers, not both")
        case (true, false):
            guard let server = try reader.identifier("server", extra: Self.nameCharacters, maxLength: 127) else {
                throw reader.error("server", "must name a server of the backend")
            }
            return [server]
        case (false, true):
            return try serverList()
        case (false, false):
            throw reader.error("server", "is required: this site's server in the backend (or servers: [a, b])")
        }
    }

    private func serverList() throws -> [String] {
        guard let nodes = try reader.sequence("servers"), !nodes.isEmpty else {
            throw reader.error("servers", "lists no servers")
        }
        var names: [String] = []
        for node in nodes {
            let name = try reader.scalarText(node, key: "servers")
            let valid =
                (1...127).contains(name.count)
                && name.unicodeScalars.allSatisfy {
                    $0.isASCII
                        && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                            || Self.nameCharacters.unicodeScalars.contains($0))
                }
            guard valid else {
                throw reader.error(
                    "servers", "\"\(name)\" may hold only letters, digits, '-', '_', '.' and ':'", node: node)
            }
            guard !names.contains(name) else { throw reader.error("servers", "lists \(name) twice", node: node) }
            names.append(name)
        }
        return names
    }

    /// `tcp:HOST:PORT` or `unix:/absolute/path` (at most 107 bytes, the socket address limit).
    static func admin(_ text: String, _ reader: YAMLReader) throws -> HAProxyOptions.Admin {
        if text.hasPrefix("tcp:") {
            guard let address = ListenAddress(text: String(text.dropFirst(4))), HostRule.isValid(address.host) else {
                throw reader.error("admin", "\"\(text)\" is not tcp:HOST:PORT with a port in 1...65535")
            }
            return .tcp(host: address.host, port: address.port)
        }
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/") else { throw reader.error("admin", "\"\(text)\" needs an absolute socket path") }
            guard path.utf8.count <= 107 else {
                throw reader.error(
                    "admin", "the socket path is \(path.utf8.count) bytes long; at most 107 fit a unix socket address")
            }
            return .unix(path: path)
        }
        throw reader.error("admin", "\"\(text)\" is neither tcp:HOST:PORT nor unix:/path")
    }
}
