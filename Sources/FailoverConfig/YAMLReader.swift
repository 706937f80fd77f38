import FailoverCore
import Foundation
import Yams

/// Walks a YAML mapping for one config object, remembering which keys were read so
/// that unknown keys become errors, and locating every error at file, line and key.
struct YAMLReader {
    let file: String
    let path: String
    let mapping: Node.Mapping
    let mark: Mark?
    let interpolator: Interpolator
    private var pairs: [(key: String, line: Int?, value: Node)] = []

    init(node: Node, file: String, path: String, interpolator: Interpolator) throws {
        guard let mapping = node.mapping else {
            throw ConfigError(file: file, line: node.mark?.line, key: path, message: "expected a mapping of keys")
        }
        self.file = file
        self.path = path
        self.mapping = mapping
        self.mark = node.mark
        self.interpolator = interpolator
        for (k, v) in mapping {
            guard let name = k.scalar?.string else {
                throw ConfigError(file: file, line: k.mark?.line, key: path, message: "keys must be plain strings")
            }
            pairs.append((name, k.mark?.line, v))
        }
    }

    /// The dotted path of `key` below this object.
    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ message: String, node: Node? = nil) -> ConfigError {
        let line = node?.mark?.line ?? pairs.first { $0.key == key }?.line ?? mark?.line
        return ConfigError(file: file, line: line, key: keyPath(key), message: message)
    }

    /// The raw node under `key`; a key written without a value (`key:`, `~`, `null`) counts as absent.
    func node(_ key: String) -> Node? {
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        return Self.isNull(value) ? nil : value
    }

    /// Whether `key` is written at all (even without a value).
    func has(_ key: String) -> Bool { pairs.contains { $0.key == key } }

    /// The keys of this mapping, in the order they are written.
    var keys: [String] { pairs.map(\.key) }

    /// Whether `node` is YAML's null: an empty plain scalar, `~` or `null`.
    static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// Fails on any key not in `known`.
    func rejectUnknown(_ known: Set<String>) throws {
        for pair in pairs where !known.contains(pair.key) {
            let hint = known.sorted().joined(separator: ", ")
            throw ConfigError(
                file: file, line: pair.line, key: keyPath(pair.key), message: "unknown key (expected one of: \(hint))")
        }
    }

    /// A scalar as an interpolated string.
    func string(_ key: String) throws -> String? {
        guard let node = node(key) else { return nil }
        return try scalarText(node, key: key)
    }

    func requiredString(_ key: String) throws -> String {
        guard let value = try nonEmptyString(key) else { throw error(key, "is required") }
        return value
    }

    /// A scalar that, when present, must not be the empty string.
    func nonEmptyString(_ key: String) throws -> String? {
        guard let value = try string(key) else { return nil }
        guard !value.isEmpty else { throw error(key, "must not be empty") }
        return value
    }

    /// A name used in ids, metrics and file names: letters, digits, `-`, `_` (and `.` when `dots`).
    func name(_ key: String, dots: Bool = false) throws -> String? {
        guard let value = try nonEmptyString(key) else { return nil }
        guard NameRule.isValid(value, dots: dots) else {
            throw error(key, "\"\(value)\" \(NameRule.explanation(dots: dots))")
        }
        return value
    }

    func scalarText(_ node: Node, key: String) throws -> String {
        guard let scalar = node.scalar else { throw error(key, "expected a single value, not a list or mapping", node: node) }
        do {
            return try interpolator.expand(scalar.string)
        } catch .unset(let name) {
            throw error(key, "environment variable \(name) is not set (use ${\(name):-default} for a default)", node: node)
        } catch .badName(let name) {
            throw error(key, "\"${\(name)}\" is not a variable reference (use ${NAME} or ${NAME:-default}; $$ for a literal $)", node: node)
        } catch {
            throw self.error(key, "unterminated ${ in value (use $$ for a literal $)", node: node)
        }
    }

    func int(_ key: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = try string(key) else { return nil }
        guard let value = Int(text) else { throw error(key, "expected a whole number, got \"\(text)\"") }
        guard range.contains(value) else {
            throw error(key, "\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(key, "expected true or false, got \"\(text)\"")
        }
    }

    func duration(_ key: String) throws -> Duration? {
        guard let text = try string(key) else { return nil }
        guard let value = Duration(text: text), value > .zero else {
            throw error(key, "\"\(text)\" is not a duration (use a number with a unit: 250ms, 3s, 10m, 1h)")
        }
        return value
    }

    /// A sequence under `key`.
    func sequence(_ key: String) throws -> [Node]? {
        guard let node = node(key) else { return nil }
        if let seq = node.sequence { return Array(seq) }
        throw error(key, "expected a list", node: node)
    }

    /// A nested object under `key`.
    func object(_ key: String) throws -> YAMLReader? {
        guard let node = node(key) else { return nil }
        return try YAMLReader(node: node, file: file, path: keyPath(key), interpolator: interpolator)
    }

    /// A mapping of string to string (e.g. HTTP headers).
    func stringMap(_ key: String) throws -> [String: String]? {
        guard let reader = try object(key) else { return nil }
        var out: [String: String] = [:]
        for pair in reader.pairs { out[pair.key] = try reader.scalarText(pair.value, key: pair.key) }
        return out
    }
}
