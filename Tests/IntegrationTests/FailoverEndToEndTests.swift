import FailoverTesting
import Foundation
import XCTest

/// A whole unplanned failover through the binary: two real nginx sites, `exec` actions that
/// append to a file, the primary's nginx stopped. The group fails over exactly once and
/// `report` shows an RTO whose phases add up and whose start is the first failed probe in
/// the event log.
final class FailoverEndToEndTests: XCTestCase {
    static let token = "e2e-token-0123456789abcdef"

    /// The sites and group of these tests; actions append `STEP SITE EPOCH DRILL` lines to `actions.log`.
    static func setUp(east: NginxServer, west: NginxServer, log: String, hook: String? = nil) throws -> ControllerProcess {
        func actions(_ site: String) -> String {
            ["drain", "fence", "promote", "dns"].map { step in
                "\(step): { exec: [\"/bin/sh\", \"-c\", \"echo $FAILOVER_STEP $FAILOVER_SITE $FAILOVER_EPOCH $FAILOVER_DRILL >> \(log)\"] }"
            }.joined(separator: "\n")
        }
        let hooks = hook.map { "\n    hooks:\n      pre: [\"/bin/sh\", \"-c\", \"\($0)\"]" } ?? ""
        let group = """
            groups:
              - name: web
                primary: east
                standbys: [west]
                cooldown: 10m
                rto: 30s\(hooks)
                plan:
                  - drain
                  - fence
                  - promote
                  - dns
                  - verify
                  - exec: ["/bin/sh", "-c", "echo cmdb $FAILOVER_FROM $FAILOVER_TO $FAILOVER_EPOCH >> \(log)"]
                    on_failure: continue
            """
        return try ControllerProcess(
            sites: [
                "east": ControllerProcess.site(
                    "east", fall: 3, rise: 1, checks: "- name: api\n  http: \(east.url())", actions: actions("east")),
                "west": ControllerProcess.site(
                    "west", fall: 3, rise: 1, checks: "- name: api\n  http: \(west.url())", actions: actions("west")),
            ], extra: group, apiToken: token)
    }

    func testStoppingThePrimaryFailsOverOnceAndReportsAnRTOFromTheFirstFailedProbe() throws {
        let east = try NginxServer([.http])
        let west = try NginxServer([.http])
        defer { west.stop() }
        let log = Self.temporaryFile("actions.log")
        defer { try? FileManager.default.removeItem(atPath: log) }
        let c = try Self.setUp(east: east, west: west, log: log)
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("both sites up") { try c.siteState("east") == "up" && c.siteState("west") == "up" }

        east.stop()
        try c.waitFor("web failed over to west", timeout: 30) {
            let group = try c.json("/groups/web") as? [String: Any]
            return group?["primary"] as? String == "west" && group?["phase"] as? String == "steady"
        }
        // More rounds with east still down: no second failover.
        let rounds = try (c.json("/healthz") as? [String: Any])?["schedule"] as? [String: Any]
        let seen = rounds?["rounds"] as? Int ?? 0
        try c.waitFor("ten more rounds") {
            (((try c.json("/healthz") as? [String: Any])?["schedule"] as? [String: Any])?["rounds"] as? Int ?? 0) >= seen + 10
        }
        XCTAssertEqual(c.stop(), 0, c.logTail())

        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, ["drain east 1 0", "fence east 1 0", "promote west 1 0", "dns west 1 0", "cmdb east west 1"])

        let report = try c.run(["report", "--group", "web", "--json"])
        XCTAssertEqual(report.status, 0, report.stderr + report.stdout)
        let incidents = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(incidents.count, 1, report.stdout)
        let incident = try XCTUnwrap(incidents.first?["incident"] as? [String: Any])
        let measures = try XCTUnwrap(incidents.first?["measures"] as? [String: Any])
        XCTAssertEqual(incident["kind"] as? String, "failover")
        XCTAssertEqual(incident["epoch"] as? Int, 1)
        XCTAssertEqual(incident["result"] as? String, "succeeded")
        let phases = ["detection_ms", "decision_ms", "actuation_ms", "verification_ms"].compactMap { measures[$0] as? Int }
        XCTAssertEqual(phases.count, 4, "\(measures)")
        XCTAssertEqual(phases.reduce(0, +), measures["rto_ms"] as? Int, "\(measures)")
        XCTAssertEqual(measures["passed"] as? Bool, true)

        // The RTO starts at the first failed probe of the streak that took east down.
        let events = try c.run(["events", "--site", "east", "--json"])
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]])
        let down = list.last { e in
            e["kind"] as? String == "site_state_changed" && (e["details"] as? [String: Any])?["to"] as? String == "down"
        }
        let firstFail = (down?["details"] as? [String: Any])?["first_fail"] as? Int
        XCTAssertNotNil(firstFail, events.stdout)
        XCTAssertEqual(incident["first_fail"] as? Int, firstFail)

        let text = try c.run(["report", "--group", "web"])
        XCTAssertTrue(text.stdout.contains("web-1  failover  east → west  succeeded  PASS"), text.stdout)
        XCTAssertTrue(text.stdout.contains("phases: detection"), text.stdout)
    }

    /// A path in the temporary directory that no other test uses.
    static func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("fo-e2e-\(UUID().uuidString.prefix(8))-\(name)").path
    }
}
