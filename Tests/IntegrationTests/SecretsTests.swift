import FailoverTesting
import Foundation
import XCTest

/// Credentials in check URLs and header values never reach the log (even at trace), the
/// event log or `status`, whether the probe passes or fails.
final class SecretsTests: XCTestCase {
    func testSecretsStayOutOfLogsEventsAndStatus() throws {
        let secrets = ["Pw0rdXYZ", "tok3nABC", "HeaderS3cret"]
        let open = try TCPListener()
        let closed = try FreePort.tcp()
        let c = try ControllerProcess(sites: [
            "web": ControllerProcess.site(
                "web",
                checks: """
                    - name: up
                      http: http://user:\(secrets[0])@127.0.0.1:\(open.port)/health?token=\(secrets[1])
                      headers: { X-Api-Key: \(secrets[2]) }
                    - name: down
                      https: https://user:\(secrets[0])@127.0.0.1:\(closed)/health?token=\(secrets[1])
                      headers: { X-Api-Key: \(secrets[2]) }
                    """)
        ])
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("web down") { try c.siteState("web") == "down" }
        let status = try c.run(["status"])
        let statusJSON = try c.run(["status", "--json"])
        let events = try c.run(["events", "--json"])
        let check = try c.run(["check"])
        XCTAssertEqual(c.stop(), 0, c.logTail())
        let stored = try c.run(["events", "--json"])
        let outputs = [
            ("log", c.logTail(10_000)), ("status", status.stdout), ("status --json", statusJSON.stdout),
            ("events --json", events.stdout), ("stored events", stored.stdout), ("check", check.stdout + check.stderr),
        ]
        for (name, text) in outputs {
            XCTAssertFalse(text.isEmpty, "\(name) printed something")
            for secret in secrets {
                XCTAssertFalse(text.contains(secret), "\(name) leaks \(secret):\n\(text)")
            }
        }
        XCTAssertTrue(statusJSON.stdout.contains("REDACTED") || status.stdout.contains("down"), status.stdout)
    }
}
