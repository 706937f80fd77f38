import FailoverCore
import Foundation
import Yams

/// Loads `failoverctl.yaml` and its site files into a validated `ControllerConfig`.
///
/// Every problem is reported as a `ConfigError` naming file, line and key. The
/// environment and host name are injected so tests need not touch the process's.
public struct ConfigLoader: Sendable {
    /// Variables for `${NAME}` interpolation and `$FAILOVERCTL_ID`.
    public var environment: [String: String]
    /// The fallback controller id.
    public var hostName: String

    /// Creates a loader; by default with the process environment and host name.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        hostName: String = ProcessInfo.processInfo.hostName
    ) {
        self.environment = environment
        self.hostName = hostName
    }

    /// The config path from `--config`, else `$FAILOVERCTL_CONFIG`, else the system default.
    public func resolvePath(_ flag: String?) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let env = environment["FAILOVERCTL_CONFIG"], !env.isEmpty { return env }
        return "/etc/failoverctl/failoverctl.yaml"
    }

    /// Reads and validates the controller file at `path` and every site file it names.
    public func load(path: String) throws -> ControllerConfig {
        let interpolator = Interpolator(environment: environment)
        let root = try YAMLReader(node: try YAMLFile.parse(path), file: path, path: "", interpolator: interpolator)
        try root.rejectUnknown(["alerts", "controller", "coordination", "groups", "runbook_url", "sites"])
        guard let controller = try root.object("controller") else { throw root.error("controller", "is required") }
        try controller.rejectUnknown(["api_token", "id", "listen", "state_dir"])
        let id = try controllerID(controller)
        let listen = try listenAddress(controller)
        let stateDir = try controller.nonEmptyString("state_dir") ?? "/var/lib/failoverctl"
        let apiToken = try apiToken(controller)
        let coordination = try loadCoordination(root, id: id, baseDir: (path as NSString).deletingLastPathComponent)
        let groups = try loadGroups(root)
        let alerts = try AlertLoader(root: root).load()
        let baseDir = (path as NSString).deletingLastPathComponent
        let siteFiles = try siteFiles(root, baseDir: baseDir)
        let sites = try loadSites(siteFiles, interpolator: interpolator)
        try checkReferences(groups, sites: sites)
        let configs = groups.map { loaded in
            var group = loaded.config
            group.promotesDatabase = sites.contains { group.sites.contains($0.name) && $0.actions[.promote]?.plugin == "postgres" }
            return group
        }
        return ControllerConfig(
            id: id, listen: listen, stateDir: resolve(stateDir, against: baseDir), coordination: coordination,
            sites: sites, groups: configs, apiToken: apiToken, alerts: alerts, sourcePath: path)
    }

    private func listenAddress(_ controller: YAMLReader) throws -> ListenAddress {
        let text = try controller.nonEmptyString("listen") ?? "127.0.0.1:7400"
        guard let listen = ListenAddress(text: text), HostRule.isValid(listen.host) else {
            throw controller.error("listen", "\"\(text)\" is not host:port with a port in 1...65535")
        }
        return listen
    }

    /// `controller.api_token`: none when absent or empty (the POST endpoints are then refused),
    /// else at least 16 characters without whitespace. Errors never show the value.
    private func apiToken(_ controller: YAMLReader) throws -> String? {
        guard let token = try controller.string("api_token"), !token.isEmpty else { return nil }
        guard token.count >= 16 else {
            throw controller.error("api_token", "is shorter than 16 characters (the value is not shown)")
        }
        // It goes into an `Authorization` header as it is.
        let fits = token.unicodeScalars.allSatisfy {
            !$0.properties.isWhitespace && $0.properties.generalCategory != .control
        }
        guard fits else {
            throw controller.error("api_token", "holds whitespace or a control character (the value is not shown)")
        }
        return token
    }

    /// `controller.id`, else `$FAILOVERCTL_ID`, else the host name; each must be a valid name.
    private func controllerID(_ controller: YAMLReader) throws -> String {
        if let id = try controller.name("id", dots: true) { return id }
        let (id, source) =
            if let env = environment["FAILOVERCTL_ID"], !env.isEmpty { (env, "$FAILOVERCTL_ID") } else { (hostName, "the host name") }
        guard NameRule.isValid(id, dots: true) else {
            throw controller.error(
                "id", "is not set and \(source) \"\(id)\" \(NameRule.explanation(dots: true)); set controller.id")
        }
        return id
    }

    private func loadCoordination(_ root: YAMLReader, id: String, baseDir: String) throws -> CoordinationConfig {
        guard let reader = try root.object("coordination") else { return .local }
        switch try reader.string("backend") ?? "local" {
        case "local":
            try reader.rejectUnknown(["backend"])
            return .local
        case "etcd":
            return .etcd(try EtcdLoader(reader: reader, id: id, baseDir: baseDir, resolve: resolve).load())
        case let other: throw reader.error("backend", "unknown backend \"\(other)\" (expected: local, etcd)")
        }
    }

    func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") || base.isEmpty { return path }
        return (base as NSString).appendingPathComponent(path)
    }
}
