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
        flag ?? environment["FAILOVERCTL_CONFIG"] ?? "/etc/failoverctl/failoverctl.yaml"
    }

    /// Reads and validates the controller file at `path` and every site file it names.
    public func load(path: String) throws -> ControllerConfig {
        let interpolator = Interpolator(environment: environment)
        let root = try YAMLReader(node: try parse(path), file: path, path: "", interpolator: interpolator)
        try root.rejectUnknown(["controller", "coordination", "sites"])
        guard let controller = try root.object("controller") else { throw root.error("controller", "is required") }
        try controller.rejectUnknown(["id", "listen", "state_dir"])
        let id = try controller.string("id") ?? environment["FAILOVERCTL_ID"] ?? hostName
        let listenText = try controller.string("listen") ?? "127.0.0.1:7400"
        guard let listen = ListenAddress(text: listenText) else {
            throw controller.error("listen", "\"\(listenText)\" is not host:port with a port in 1...65535")
        }
        let stateDir = try controller.string("state_dir") ?? "/var/lib/failoverctl"
        let coordination = try loadCoordination(root)
        let baseDir = (path as NSString).deletingLastPathComponent
        let siteFiles = try siteFilePaths(root, baseDir: baseDir)
        let sites = try loadSites(siteFiles, interpolator: interpolator)
        return ControllerConfig(
            id: id, listen: listen, stateDir: resolve(stateDir, against: baseDir), coordination: coordination,
            sites: sites, sourcePath: path)
    }

    func parse(_ path: String) throws -> Node {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: nil, key: "", message: "cannot read file (missing or unreadable)")
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: path, line: nil, key: "", message: "file is empty")
            }
            return node
        } catch let error as YamlError {
            throw ConfigError(file: path, line: YAMLErrorText.line(error), key: "", message: YAMLErrorText.message(error))
        }
    }

    private func loadCoordination(_ root: YAMLReader) throws -> CoordinationConfig {
        guard let reader = try root.object("coordination") else { return .local }
        try reader.rejectUnknown(["backend"])
        switch try reader.string("backend") ?? "local" {
        case "local": return .local
        case "etcd": throw reader.error("backend", "etcd coordination is not available in this version; use local")
        case let other: throw reader.error("backend", "unknown backend \"\(other)\" (expected: local)")
        }
    }

    private func siteFilePaths(_ root: YAMLReader, baseDir: String) throws -> [(path: String, line: Int?)] {
        guard let node = root.node("sites") else { throw root.error("sites", "is required (a directory or a list of files)") }
        if let list = node.sequence {
            let files = try list.map { (try root.scalarText($0, key: "sites"), $0.mark?.line) }
            guard !files.isEmpty else { throw root.error("sites", "lists no files") }
            return files.map { (resolve($0.0, against: baseDir), $0.1) }
        }
        let dir = resolve(try root.scalarText(node, key: "sites"), against: baseDir)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw root.error("sites", "directory \(dir) does not exist")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        guard !files.isEmpty else { throw root.error("sites", "directory \(dir) holds no *.yaml site files") }
        return files.map { ((dir as NSString).appendingPathComponent($0), node.mark?.line) }
    }

    private func loadSites(_ files: [(path: String, line: Int?)], interpolator: Interpolator) throws -> [SiteConfig] {
        var sites: [SiteConfig] = []
        for file in files {
            let node = try parse(file.path)
            let reader = try YAMLReader(node: node, file: file.path, path: "", interpolator: interpolator)
            let site = try SiteLoader(reader: reader).load()
            if let other = sites.first(where: { $0.name == site.name }) {
                throw reader.error("name", "duplicate site name \"\(site.name)\" (also in \(other.sourcePath))")
            }
            sites.append(site)
        }
        return sites
    }

    func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") || base.isEmpty { return path }
        return (base as NSString).appendingPathComponent(path)
    }
}

/// Turns Yams' errors into a line number and a one-line message.
enum YAMLErrorText {
    static func line(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        case .duplicatedKeysInMapping(_, let context): context.mark.line
        default: nil
        }
    }

    static func message(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            "invalid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            "duplicate key(s): \(duplicates.sorted().joined(separator: ", "))"
        default: "invalid YAML: \(error)"
        }
    }
}
