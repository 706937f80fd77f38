import Foundation

/// Finds the executables SwiftPM built beside the test bundle (`failoverctl`,
/// `eventlog-crash-writer`), so tests run the real binaries.
public enum BuildProducts {
    /// The build products directory: `$FAILOVERCTL_BUILD_DIR`, else the directory holding
    /// the running test bundle.
    public static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["FAILOVERCTL_BUILD_DIR"] {
            return URL(fileURLWithPath: dir)
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // .../debug/failoverctlPackageTests.xctest (Linux: the test binary itself).
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("failoverctl").path) { return url }
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// The path of the built executable `name`; fails loudly when it was not built.
    public static func executable(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingProduct(path: path)
        }
        return path
    }

    /// An executable the tests need was not built.
    public struct MissingProduct: Error, CustomStringConvertible {
        /// Where it was expected.
        public let path: String
        public var description: String { "\(path) was not built (run `swift build --build-tests` first)" }
    }
}
