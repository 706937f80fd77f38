import FailoverCore
import Foundation
import Yams

extension YAMLReader {
    /// One of an enum's raw values, e.g. `failover: automatic`.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, as type: T.Type = T.self) throws -> T?
    where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let value = T(rawValue: text) else {
            throw error(key, "\"\(text)\" is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// A size in bytes: a whole number of bytes, or a whole number with a unit (`512KB`, `16MB`).
    func byteSize(_ key: String) throws -> Int64? {
        guard let text = try string(key) else { return nil }
        guard let bytes = ByteSize.parse(text) else {
            throw error(key, "\"\(text)\" is not a size (bytes, or a whole number with a unit: 512KB, 16MB, 1GB)")
        }
        return bytes
    }

    /// A command as argv: a non-empty list of strings whose first element, the program, is an
    /// executable file (a path with a `/`; a relative one is resolved against this file's
    /// directory) or a name found on the environment's `PATH`. Arguments are never printed.
    func command(_ key: String) throws -> [String]? {
        guard let node = node(key) else { return nil }
        guard let list = node.sequence else {
            throw error(
                key, "expected a command as a list of strings (argv), e.g. [\"/usr/local/bin/drain\", \"east\"]")
        }
        let argv = try list.map { try scalarText($0, key: key) }
        guard let program = argv.first else { throw error(key, "the command is empty (expected [program, args...])") }
        guard !program.isEmpty else { throw error(key, "the command's program (its first element) is empty") }
        let resolved = program.contains("/") && !program.hasPrefix("/") ? relativeToFile(program) : program
        if let problem = ProgramLookup(environment: interpolator.environment).problem(with: resolved) {
            throw error(key, problem)
        }
        return [resolved] + argv.dropFirst()
    }

    /// `path` resolved against the directory of this reader's file, made absolute so the
    /// controller finds it whatever its working directory.
    private func relativeToFile(_ path: String) -> String {
        var dir = (file as NSString).deletingLastPathComponent
        if !dir.hasPrefix("/") {
            dir = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(dir)
        }
        return ((dir as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }
}

/// Sizes such as `16MB`: every unit is 1024-based (`KB` and `KiB` both mean 1024 bytes).
enum ByteSize {
    /// Multipliers by unit, upper-cased; the empty unit is plain bytes.
    static let units: [String: Int64] = [
        "": 1, "B": 1, "KB": 1 << 10, "KIB": 1 << 10, "MB": 1 << 20, "MIB": 1 << 20, "GB": 1 << 30, "GIB": 1 << 30,
    ]

    /// The bytes in `text` (`1048576`, `512KB`, `16 MiB`, `1gb`); nil when malformed or too large.
    static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).uppercased()
        guard !digits.isEmpty, let value = Int64(digits), let scale = units[unit] else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : bytes
    }
}

/// Finds the program of an exec command the way the controller will run it.
struct ProgramLookup: Sendable {
    /// The environment whose `PATH` bare names are searched on.
    let environment: [String: String]

    /// Why `program` cannot be run, in words; nil when it can. A path (with a `/`) must be an
    /// executable file; a bare name must be one in a directory of `PATH`.
    func problem(with program: String) -> String? {
        if program.contains("/") { return Self.problem(atPath: program) }
        guard let path = environment["PATH"], !path.isEmpty else {
            return "command \"\(program)\" cannot be looked up: PATH is not set (write the program's full path)"
        }
        // Empty PATH entries (the current directory) are skipped: the controller's working
        // directory is not a place to find programs in.
        let dirs = path.split(separator: ":").map(String.init)
        let found = dirs.contains { Self.problem(atPath: ($0 as NSString).appendingPathComponent(program)) == nil }
        return found ? nil : "command \"\(program)\" is not found on the controller's PATH (write its full path)"
    }

    /// Why the file at `path` cannot be run; nil when it is an executable file.
    static func problem(atPath path: String) -> String? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            return "command \(path) does not exist"
        }
        guard !isDir.boolValue else { return "command \(path) is a directory, not a program" }
        guard FileManager.default.isExecutableFile(atPath: path) else { return "command \(path) is not executable" }
        return nil
    }
}
