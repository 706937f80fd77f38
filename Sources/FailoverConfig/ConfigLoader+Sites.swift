import FailoverCore
import Foundation
import Yams

/// A site file to load, and where the controller file names it (for errors about the file itself).
struct SiteFileReference {
    /// The resolved path of the site file.
    var path: String
    /// The controller file's entry that names it: `sites[1]` at its line, or `sites` for a directory.
    var origin: ConfigError
}

extension ConfigLoader {
    /// The site files named by `sites:`: a list of files, or a directory of `*.yaml`.
    func siteFiles(_ root: YAMLReader, baseDir: String) throws -> [SiteFileReference] {
        guard let node = root.node("sites") else { throw root.error("sites", "is required (a directory or a list of files)") }
        if let list = node.sequence {
            guard list.count > 0 else { throw root.error("sites", "lists no files") }
            return try list.enumerated().map { index, entry in
                let key = "sites[\(index)]"
                let text = try root.scalarText(entry, key: key)
                guard !text.isEmpty else { throw root.error(key, "must not be empty", node: entry) }
                let origin = ConfigError(file: root.file, line: entry.mark?.line, key: key, message: "")
                return SiteFileReference(path: resolve(text, against: baseDir), origin: origin)
            }
        }
        let text = try root.scalarText(node, key: "sites")
        guard !text.isEmpty else { throw root.error("sites", "must not be empty") }
        return try directoryFiles(resolve(text, against: baseDir), root: root)
    }

    private func directoryFiles(_ dir: String, root: YAMLReader) throws -> [SiteFileReference] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw root.error("sites", "directory \(dir) does not exist")
        }
        guard isDir.boolValue else {
            throw root.error("sites", "\(dir) is not a directory (write a list to name single files)")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let controllerFile = (root.file as NSString).standardizingPath
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { (dir as NSString).appendingPathComponent($0) }
            // The controller file may sit in the same directory: it is not a site.
            .filter { ($0 as NSString).standardizingPath != controllerFile }
        guard !files.isEmpty else { throw root.error("sites", "directory \(dir) holds no *.yaml site files") }
        let origin = root.error("sites", "")
        return files.map { SiteFileReference(path: $0, origin: origin) }
    }

    func loadSites(_ files: [SiteFileReference], interpolator: Interpolator) throws -> [SiteConfig] {
        var sites: [SiteConfig] = []
        for file in files {
            let node = try YAMLFile.parse(file.path, namedBy: file.origin)
            let reader = try YAMLReader(node: node, file: file.path, path: "", interpolator: interpolator)
            let site = try SiteLoader(reader: reader).load()
            if let other = sites.first(where: { $0.name == site.name }) {
                throw reader.error("name", "duplicate site name \"\(site.name)\" (also in \(other.sourcePath))")
            }
            sites.append(site)
        }
        return sites
    }
}

/// Reading one YAML file into a node, with located errors.
enum YAMLFile {
    /// Parses the file at `path`. When the file itself is missing or unreadable and `origin`
    /// is given, the error points at the controller file's entry that names it.
    static func parse(_ path: String, namedBy origin: ConfigError? = nil) throws -> Node {
        func fail(_ message: String) -> ConfigError {
            guard var located = origin else { return ConfigError(file: path, line: nil, key: "", message: message) }
            located.message = "\(path): \(message)"
            return located
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw fail("file does not exist") }
        guard !isDir.boolValue else { throw fail("is a directory, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read file (permission denied?)") }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, key: "", message: "file is not UTF-8 text")
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: path, line: nil, key: "", message: "file is empty (expected a mapping of keys)")
            }
            return node
        } catch let error as YamlError {
            throw ConfigError(file: path, line: YAMLErrorText.line(error), key: "", message: YAMLErrorText.message(error))
        }
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
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            context.map { "invalid YAML: \(problem) (\($0.text) at line \($0.mark.line))" } ?? "invalid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            "duplicate key \(duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")) in one mapping"
        case .reader(let problem, _, _, _): "invalid YAML: \(problem)"
        default: "invalid YAML"
        }
    }
}
