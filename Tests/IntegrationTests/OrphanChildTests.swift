import FailoverCore
import FailoverTesting
import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// kill -9 of `failoverctl run` in the middle of an `exec` step: the step's whole process
/// group (its guard, the script and the script's background child) is gone within 100 ms
/// of the controller's death, so a next leader's re-run of the step never overlaps it.
final class OrphanChildTests: XCTestCase {
    static let runs = 10
    static let bound = Duration.milliseconds(100)

    func testKillingTheControllerDuringAnExecStepKillsTheStepsGroupWithin100ms() throws {
        let listener = try TCPListener()
        var worst = Duration.zero
        for run in 1...Self.runs {
            let gone = try killedDuringStep(checking: listener.port, run: run)
            worst = max(worst, gone)
            XCTAssertLessThan(gone, Self.bound, "run \(run): the step's group outlived the controller by \(gone)")
        }
        print(
            "orphan-child: worst \(worst) from the controller's death to its step's group gone, over \(Self.runs) runs")
    }

    /// One run: a drill whose only step is a long script; the controller killed once the
    /// script has started; the time from its reaping to the group's last live member.
    private func killedDuringStep(checking port: Int, run: Int) throws -> Duration {
        let ready = try Rendezvous(in: NSTemporaryDirectory(), name: "step-started-\(UUID().uuidString.prefix(8))")
        let c = try Self.controller(
            port: port, script: "sleep 1000 & echo START $$ $! $FAILOVER_TOKEN > '\(ready.path)'; wait")
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("both sites up") { try c.siteState("east") == "up" && c.siteState("west") == "up" }
        let post = try c.run(
            [
                "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H",
                "Authorization: Bearer \(FailoverEndToEndTests.token)", "http://127.0.0.1:\(c.port)/groups/web/drill",
            ],
            direct: true)
        XCTAssertEqual(post.stdout, "202", c.logTail())

        let start = try ready.line(within: .seconds(15)).split(separator: " ").map(String.init)
        XCTAssertEqual(start.count, 4, "\(start)")
        let command = try XCTUnwrap(start.count == 4 ? pid_t(start[1]) : nil)
        let entry = try XCTUnwrap(ProcessTable.entry(command))
        let guardian = try XCTUnwrap(ProcessTable.entry(entry.parent))
        XCTAssertEqual(guardian.parent, c.pid, "the step's guard is the controller's child")
        XCTAssertEqual(guardian.group, entry.parent, "the guard leads the step's group")
        XCTAssertEqual(ProcessTable.liveMembers(ofGroup: entry.group).count, 3, "guard, sh and sleep")

        XCTAssertEqual(c.stop(signal: SIGKILL), SIGKILL)
        let gone = ProcessTable.timeUntilEmpty(entry.group)
        let left = ProcessTable.liveMembers(ofGroup: entry.group)
        print(
            "orphan-child run \(run): step group gone \(gone.map { "\($0)" } ?? "never") after the controller's death")
        XCTAssertNotNil(gone, "left in the group: \(left)")
        for pid in left { kill(pid, SIGKILL) }
        try assertTheStepStartedWithToken(start[3], c)
        return gone ?? .seconds(3)
    }

    /// The step's `step_started` event carries the token the script saw as `FAILOVER_TOKEN`.
    private func assertTheStepStartedWithToken(_ token: String, _ c: ControllerProcess) throws {
        let token = try XCTUnwrap(FencingToken(token), "FAILOVER_TOKEN \(token) is EPOCH.TERM")
        XCTAssertEqual(token.epoch, 1)
        let events = try c.run(["events", "--json"])
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]])
        let started = list.first { $0["kind"] as? String == "step_started" }
        let details = try XCTUnwrap(started?["details"] as? [String: Any], events.stdout)
        XCTAssertEqual(details["token"] as? String, token.description)
    }

    /// A controller with two sites probed on `port` and a group `web` whose plan is one
    /// `exec` step running `sh -c script`.
    private static func controller(port: Int, script: String) throws -> ControllerProcess {
        // A YAML double-quoted string, and `$$` is the config's escape of a literal `$`.
        let quoted = script.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "$$", with: "$$$$")
        let groups = """
            groups:
              - name: web
                primary: east
                standbys: [west]
                plan:
                  - exec: ["/bin/sh", "-c", "\(quoted)"]
                    timeout: 10m
                    retries: 0
            """
        let site = { (name: String) in ControllerProcess.site(name, checks: "- tcp: 127.0.0.1:\(port)") }
        return try ControllerProcess(
            sites: ["east": site("east"), "west": site("west")], extra: groups, apiToken: FailoverEndToEndTests.token)
    }
}
