import FailoverTesting
import Foundation
import XCTest

/// `failoverctl status` as a Nagios check: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN,
/// from the live API and from the state a stopped controller left.
final class StatusExitCodeTests: XCTestCase {
    private func site(_ name: String, port: Int, fall: Int = 1, rise: Int = 1) -> String {
        ControllerProcess.site(name, fall: fall, rise: rise, checks: "- name: port\n  tcp: 127.0.0.1:\(port)")
    }

    func testUnknownWithoutControllerOrState() throws {
        let listener = try TCPListener()
        let c = try ControllerProcess(sites: ["a": site("a", port: listener.port)])
        let result = try c.run(["status"])
        XCTAssertEqual(result.status, 3, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("UNKNOWN:"), result.stdout)
        let json = try c.run(["status", "--json"])
        XCTAssertEqual(json.status, 3)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["level"] as? Int, 3)
    }

    func testOkThenCriticalThenStaleStateFromSQLite() throws {
        let listener = try TCPListener()
        let c = try ControllerProcess(sites: ["a": site("a", port: listener.port), "b": site("b", port: listener.port)])
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("both sites up") { try c.siteState("a") == "up" && c.siteState("b") == "up" }
        let ok = try c.run(["status"])
        XCTAssertEqual(ok.status, 0, ok.stdout)
        XCTAssertTrue(ok.stdout.hasPrefix("OK: controller it-1, live"), ok.stdout)
        XCTAssertNotNil(ok.stdout.range(of: #"port +tcp +ok"#, options: .regularExpression), ok.stdout)

        listener.close()
        try c.waitFor("site a down") { try c.siteState("a") == "down" }
        let critical = try c.run(["status", "--json"])
        XCTAssertEqual(critical.status, 2, critical.stdout)
        let report = try JSONSerialization.jsonObject(with: Data(critical.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(report?["level"] as? Int, 2)
        XCTAssertEqual(report?["source"] as? String, "api")
        let checks = ((report?["sites"] as? [[String: Any]])?.first?["checks"] as? [[String: Any]]) ?? []
        XCTAssertEqual(checks.first?["diagnosis"] as? String, "refused")

        XCTAssertEqual(c.stop(signal: SIGTERM), 0, c.logTail())
        let stale = try c.run(["status"])
        XCTAssertEqual(stale.status, 2, "stored state: still critical\n" + stale.stdout)
        XCTAssertTrue(stale.stdout.contains("stored state"), stale.stdout)
        XCTAssertTrue(stale.stdout.contains("no controller answered"), stale.stdout)
    }

    func testWarningForSuspectSiteAndForStaleState() throws {
        let listener = try TCPListener()
        let failing = try TCPListener()
        let c = try ControllerProcess(sites: [
            "a": site("a", port: listener.port), "b": site("b", port: failing.port, fall: 100, rise: 1),
        ])
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("site b up") { try c.siteState("b") == "up" }
        failing.close()
        try c.waitFor("site b suspect") { try c.siteState("b") == "suspect" }
        let warning = try c.run(["status"])
        XCTAssertEqual(warning.status, 1, warning.stdout)
        XCTAssertTrue(warning.stdout.contains("site b is suspect"), warning.stdout)
        XCTAssertEqual(c.stop(signal: SIGINT), 0, c.logTail())
        let stale = try c.run(["status", "--json"])
        XCTAssertEqual(stale.status, 1, stale.stdout)
    }

    func testGracefulStopRecordsStartAndStopEvents() throws {
        let listener = try TCPListener()
        let c = try ControllerProcess(sites: ["a": site("a", port: listener.port)])
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("site a up") { try c.siteState("a") == "up" }
        XCTAssertEqual(c.stop(signal: SIGTERM), 0, c.logTail())
        let events = try c.run(["events", "--json"])
        XCTAssertEqual(events.status, 0, events.stderr)
        let list = try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]] ?? []
        let kinds = list.compactMap { $0["kind"] as? String }
        XCTAssertEqual(kinds.first, "controller_started")
        XCTAssertEqual(kinds.last, "controller_stopped")
        XCTAssertTrue(kinds.contains("site_state_changed"))
        XCTAssertTrue(c.logTail(200).contains("site a is up"), c.logTail())
    }
}
