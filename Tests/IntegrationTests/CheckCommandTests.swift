import FailoverTesting
import Foundation
import XCTest

/// `failoverctl check` as a binary: every bad config of the shared BadConfigs folder gives
/// exactly one line naming file, line and key, and exit code 2; a good config exits 0.
final class CheckCommandTests: XCTestCase {
    private var badConfigs: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FailoverCoreTests/BadConfigs")
    }

    private func check(_ configPath: String, env: [String: String] = [:]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try BuildProducts.executable("failoverctl"))
        p.arguments = ["check", "--config", configPath]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "FO_TEST_UNSET_VAR")
        p.environment = environment.merging(env) { $1 }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, stdout, stderr)
    }

    func testEveryBadConfigGivesOneLocatedLineAndExit2() throws {
        let cases = try FileManager.default.contentsOfDirectory(atPath: badConfigs.path).sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 10, "at least ten kinds of bad config")
        for name in cases {
            let dir = badConfigs.appendingPathComponent(name)
            let expected = try String(contentsOf: dir.appendingPathComponent("expected.txt"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
                .replacingOccurrences(of: "$DIR", with: dir.path)
            let (status, stdout, stderr) = try check(dir.appendingPathComponent("failoverctl.yaml").path)
            XCTAssertEqual(status, 2, "\(name): \(stderr)")
            XCTAssertEqual(stdout, "", name)
            let lines = stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(name): \(stderr)")
            XCTAssertEqual(lines.first.map(String.init), "failoverctl: \(expected)", name)
        }
    }

    func testGoodConfigPrintsSummaryAndExit0() throws {
        let listener = try TCPListener()
        let c = try ControllerProcess(sites: [
            "east": """
            name: east
            region: us-east-1
            checks:
              - name: api
                https: https://user:hunter2@127.0.0.1:8443/health?token=s3cret
              - name: db
                tcp: 127.0.0.1:\(listener.port)
            """
        ])
        let (status, stdout, stderr) = try check(c.configPath)
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stdout.contains(": OK"), stdout)
        XCTAssertTrue(stdout.contains("site east (us-east-1): every 1s, timeout 800ms, fall 3, rise 2, require all"), stdout)
        XCTAssertTrue(stdout.contains("db: tcp 127.0.0.1:\(listener.port)"), stdout)
        XCTAssertFalse(stdout.contains("hunter2"), "URL password must not be printed")
        XCTAssertFalse(stdout.contains("s3cret"), "secret query values must not be printed")
    }

    func testMissingConfigFileExits2NamingTheFile() throws {
        let (status, _, stderr) = try check("/nonexistent/failoverctl.yaml")
        XCTAssertEqual(status, 2)
        XCTAssertTrue(stderr.contains("/nonexistent/failoverctl.yaml"), stderr)
    }
}
