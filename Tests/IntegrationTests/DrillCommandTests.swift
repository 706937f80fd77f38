import FailoverTesting
import Foundation
import XCTest

/// `drill`, `pause` and `resume` through the binary against a running controller.
final class DrillCommandTests: XCTestCase {
    private var east: NginxServer!
    private var west: NginxServer!
    private var files: [String] = []

    override func setUpWithError() throws {
        east = try NginxServer([.http])
        west = try NginxServer([.http])
    }

    override func tearDown() {
        east?.stop()
        west?.stop()
        // XCTest keeps every test case object to the end of the run: release the servers
        // now so their deinit removes their directories.
        east = nil
        west = nil
        for file in files { try? FileManager.default.removeItem(atPath: file) }
    }

    private func file(_ name: String) -> String {
        let path = FailoverEndToEndTests.temporaryFile(name)
        files.append(path)
        return path
    }

    private func started(hook: String? = nil) throws -> (ControllerProcess, String) {
        let log = file("actions.log")
        let c = try FailoverEndToEndTests.setUp(east: east, west: west, log: log, hook: hook)
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("both sites up") { try c.siteState("east") == "up" && c.siteState("west") == "up" }
        return (c, log)
    }

    func testDryRunPrintsThePlanAndRunsNoHookNorAction() throws {
        let marker = file("hook-ran")
        let (c, log) = try started(hook: "touch \(marker)")
        let live = try c.run(["drill", "--planned", "--group", "web", "--failback", "--dry-run"])
        XCTAssertEqual(live.status, 0, live.stderr)
        XCTAssertTrue(live.stdout.contains("drill of web: east → west at epoch 1"), live.stdout)
        XCTAssertTrue(live.stdout.contains("drill of web: west → east at epoch 2"), live.stdout)
        XCTAssertTrue(live.stdout.contains("pre hook (asked first; a non-zero exit vetoes): /bin/sh -c 'touch \(marker)'"), live.stdout)
        XCTAssertTrue(live.stdout.contains("1. drain east: exec /bin/sh -c"), live.stdout)
        XCTAssertTrue(live.stdout.contains("5. verify west: probe west's checks until a round passes"), live.stdout)
        XCTAssertEqual(c.stop(), 0, c.logTail())
        // Without a controller, judged on the stored state.
        let stored = try c.run(["drill", "--planned", "--group", "web", "--to", "west", "--dry-run", "--json"])
        XCTAssertEqual(stored.status, 0, stored.stderr)
        let plan = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stored.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((plan["steps"] as? [[String: Any]])?.map { $0["kind"] as? String }, ["drain", "fence", "promote", "dns", "verify", "exec"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "a dry run ran the pre hook")
        XCTAssertFalse(FileManager.default.fileExists(atPath: log), "a dry run ran an action")
    }

    func testADrillWithFailbackSwitchesOverAndBackAsTwoMeasuredDrills() throws {
        let (c, log) = try started()
        let drill = try c.run(["drill", "--planned", "--group", "web", "--failback"])
        XCTAssertEqual(drill.status, 0, drill.stdout + drill.stderr + c.logTail())
        XCTAssertTrue(drill.stdout.contains("web-1  drill  east → west  succeeded  PASS"), drill.stdout)
        XCTAssertTrue(drill.stdout.contains("web-2  drill  west → east  succeeded  PASS"), drill.stdout)
        XCTAssertTrue(drill.stdout.contains("failover_succeeded"), drill.stdout)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "drain east 1 1", "fence east 1 1", "promote west 1 1", "dns west 1 1", "cmdb east west 1",
            "drain west 2 1", "fence west 2 1", "promote east 2 1", "dns east 2 1", "cmdb west east 2",
        ])
        let group = try XCTUnwrap(try c.json("/groups/web") as? [String: Any])
        XCTAssertEqual(group["primary"] as? String, "east")
        XCTAssertEqual(group["epoch"] as? Int, 2)
        XCTAssertEqual(c.stop(), 0, c.logTail())
    }

    func testAVetoingHookStopsTheDrillAndTheCommandSaysSo() throws {
        let (c, log) = try started(hook: "echo change freeze >&2; exit 3")
        let drill = try c.run(["drill", "--planned", "--group", "web"])
        XCTAssertEqual(drill.status, 2, drill.stdout + drill.stderr)
        XCTAssertTrue(drill.stdout.contains("failover_vetoed"), drill.stdout)
        XCTAssertTrue(drill.stdout.contains("change freeze"), drill.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: log))
        XCTAssertEqual((try c.json("/groups/web") as? [String: Any])?["epoch"] as? Int, 0)
        XCTAssertEqual(c.stop(), 0, c.logTail())
    }

    func testCommandsNeedTheBearerTokenAndPauseStopsADrill() throws {
        let (c, _) = try started()
        let noToken = try c.run(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
            "http://127.0.0.1:\(c.port)/groups/web/pause"], direct: true)
        XCTAssertEqual(noToken.stdout, "401")
        let wrong = try c.run(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
            "-H", "Authorization: Bearer nope-nope-nope-nope", "http://127.0.0.1:\(c.port)/groups/web/pause"], direct: true)
        XCTAssertEqual(wrong.stdout, "401")
        let pause = try c.run(["pause", "--group", "web"])
        XCTAssertEqual(pause.status, 0, pause.stderr)
        XCTAssertTrue(pause.stdout.contains("web: paused"), pause.stdout)
        let drill = try c.run(["drill", "--planned", "--group", "web"])
        XCTAssertEqual(drill.status, 2)
        XCTAssertTrue(drill.stderr.contains("web is paused"), drill.stderr)
        let status = try c.run(["status"])
        XCTAssertEqual(status.status, 1, status.stdout)
        XCTAssertTrue(status.stdout.contains("group web is paused"), status.stdout)
        let resume = try c.run(["resume", "--group", "web"])
        XCTAssertTrue(resume.stdout.contains("web: steady"), resume.stdout)
        XCTAssertEqual(c.stop(), 0, c.logTail())
        // The token reaches neither the log (at debug level), the events, status nor report.
        let token = FailoverEndToEndTests.token
        XCTAssertFalse(c.logTail(100_000).contains(token), "the API token reached the log")
        for command in [["events", "--json"], ["status", "--json"], ["report", "--json"], ["check"]] {
            let output = try c.run(command)
            XCTAssertFalse(output.stdout.contains(token) || output.stderr.contains(token), "\(command) shows the API token")
        }
    }
}
