import FailoverTesting
import Foundation
import XCTest

/// kill -9 of the controller in the middle of a plan: the next process resumes the plan at
/// the stored step (running that step again, as steps are idempotent), and finishes it.
final class PlanResumeTests: XCTestCase {
    func testAControllerKilledDuringPromoteResumesAtPromoteAfterRestart() throws {
        let east = try NginxServer([.http])
        let west = try NginxServer([.http])
        defer { west.stop() }
        let log = FailoverEndToEndTests.temporaryFile("actions.log")
        let hangPID = FailoverEndToEndTests.temporaryFile("promote.pid")
        defer {
            if let text = try? String(contentsOfFile: hangPID, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
            for file in [log, hangPID] { try? FileManager.default.removeItem(atPath: file) }
        }
        // The first promote hangs (as if the database were slow); later ones return at once.
        let promote = "echo promote $FAILOVER_SITE $FAILOVER_EPOCH >> \(log); [ -f \(hangPID) ] || { echo $$ > \(hangPID); exec sleep 60; }"
        func actions(_ site: String) -> String {
            ["drain", "fence", "dns"].map { step in
                "\(step): { exec: [\"/bin/sh\", \"-c\", \"echo $FAILOVER_STEP $FAILOVER_SITE $FAILOVER_EPOCH >> \(log)\"] }"
            }.joined(separator: "\n") + "\npromote: { exec: [\"/bin/sh\", \"-c\", \"\(promote)\"] }"
        }
        let c = try ControllerProcess(
            sites: [
                "east": ControllerProcess.site("east", fall: 2, checks: "- name: api\n  http: \(east.url())", actions: actions("east")),
                "west": ControllerProcess.site("west", fall: 2, checks: "- name: api\n  http: \(west.url())", actions: actions("west")),
            ],
            extra: """
                groups:
                  - name: web
                    primary: east
                    standbys: [west]
                    plan:
                      - drain
                      - fence
                      - step: promote
                        timeout: 2m
                      - dns
                      - verify
                """)
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("both sites up") { try c.siteState("east") == "up" && c.siteState("west") == "up" }
        east.stop()
        try c.waitFor("promote running") { FileManager.default.fileExists(atPath: hangPID) }
        XCTAssertEqual(c.stop(signal: SIGKILL), SIGKILL)

        try c.start()
        try c.waitUntilServing()
        try c.waitFor("web failed over to west after the restart") {
            let group = try c.json("/groups/web") as? [String: Any]
            return group?["primary"] as? String == "west" && group?["phase"] as? String == "steady"
        }
        XCTAssertEqual(c.stop(), 0, c.logTail())
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, ["drain east 1", "fence east 1", "promote west 1", "promote west 1", "dns west 1"])
        let events = try c.run(["events", "--group", "web", "--json"])
        let kinds = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]])
            .compactMap { $0["kind"] as? String }
        XCTAssertEqual(kinds.filter { $0 == "failover_started" }.count, 1, events.stdout)
        XCTAssertEqual(kinds.filter { $0 == "plan_resumed" }.count, 1, events.stdout)
        XCTAssertEqual(kinds.last, "failover_succeeded", events.stdout)
        XCTAssertTrue(c.logTail(200).contains("resuming web-1 of web at step 3 of 5 after a controller restart"), c.logTail())
    }
}
