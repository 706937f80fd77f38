import Foundation

/// Prometheus's `promtool` (Debian's `prometheus` package), the judge of our metrics text,
/// rules and rule tests. Missing, it is an error, never a skip.
enum Promtool {
    static let path = "/usr/bin/promtool"

    /// The repository's root (for `deploy/`).
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs `promtool ARGS` in `directory`, with `input` as its standard input; its exit
    /// status and its output (stdout and stderr together).
    static func run(_ args: [String], input: String? = nil, in directory: URL = repo) throws -> (
        status: Int32, output: String
    ) {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ControllerProcess.Failure(
                "\(path) not found: install Debian's prometheus package (scripts/install-deps.sh does, and make test runs it)"
            )
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = directory
        let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fo-promtool-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: inputFile) }
        try Data((input ?? "").utf8).write(to: inputFile)
        p.standardInput = try FileHandle(forReadingFrom: inputFile)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
