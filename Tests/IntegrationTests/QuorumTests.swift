import FailoverTesting
import Foundation
import XCTest

/// Three controllers on a real 3-member etcd cluster: votes, one leader, guarded steps,
/// hand-over after the leader dies, and no action without quorum.
final class QuorumTests: XCTestCase {
    /// One etcd cluster for the suite; each test uses its own key prefix.
    nonisolated(unsafe) static var shared: EtcdCluster?

    func etcd() throws -> EtcdCluster {
        if let cluster = Self.shared { return cluster }
        let cluster = try EtcdCluster()
        Self.shared = cluster
        return cluster
    }

    override class func tearDown() {
        shared?.stop()
        shared = nil
    }

    /// East down for all three → one failover, run by the leader, one epoch increment; every
    /// controller's event log holds the whole timeline and the same incident.
    func testPrimaryDownEverywhereFailsOverExactlyOnceByTheLeader() throws {
        let q = try QuorumCluster(etcd: try etcd())
        try q.start()
        let leader = try q.waitForLeader()
        for id in QuorumCluster.ids {
            try q[id].waitFor("both sites up by quorum at \(id)") {
                try q.quorum(id, site: "east")?["verdict"] as? String == "up" && q.quorum(id, site: "west")?["verdict"] as? String == "up"
            }
        }
        q.east.stop()
        for id in QuorumCluster.ids { try q.waitForPrimary("west", on: id) }
        XCTAssertEqual(
            try q.actions(), ["drain east 1 \(leader)", "fence east 1 \(leader)", "promote west 1 \(leader)", "dns west 1 \(leader)"],
            q.logs())
        for id in QuorumCluster.ids {
            XCTAssertEqual(try q.group(id)?["epoch"] as? Int, 1, "epoch at \(id)")
        }
        // The timeline reaches every controller: the leader's failover events are in each
        // one's log, and `report` shows the same single incident on a follower.
        let follower = QuorumCluster.ids.first { $0 != leader }!
        try q[follower].waitFor("the leader's events mirrored into \(follower)") {
            let kinds = try q.events(follower, group: "web").filter { $0["controller"] as? String == leader }.compactMap { $0["kind"] as? String }
            return kinds.contains("failover_succeeded")
        }
        let events = try q.events(follower, group: "web")
        XCTAssertEqual(events.filter { $0["kind"] as? String == "failover_started" }.count, 1, "\(events)")
        let report = try q[follower].run(["report", "--json"])
        let incidents = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(incidents?.count, 1, report.stdout)
        XCTAssertEqual((incidents?.first?["incident"] as? [String: Any])?["to"] as? String, "west", report.stdout)
        // Still exactly once after ten more probe rounds of east (still down).
        Thread.sleep(forTimeInterval: 10 * QuorumCluster.interval)  // a window in which nothing may happen
        XCTAssertEqual(try q.actions().count, 4)
        XCTAssertEqual(try q.group(leader)?["epoch"] as? Int, 1)
    }

    /// East unreachable from c3 only (its check points at a closed port) → no failover, and
    /// `status` shows c3's dissenting vote.
    func testAPrimaryDownForOneControllerOnlyIsNotFailedOver() throws {
        let closed = try FreePort.tcp()
        let q = try QuorumCluster(etcd: try etcd(), eastCheck: ["c3": "http://127.0.0.1:\(closed)/health"])
        try q.start()
        let leader = try q.waitForLeader()
        try q[leader].waitFor("c3's down vote on east seen by the leader") {
            let votes = try q.quorum(leader, site: "east")?["votes"] as? [String: String]
            return votes == ["c1": "up", "c2": "up", "c3": "down"]
        }
        XCTAssertEqual(try q.quorum(leader, site: "east")?["verdict"] as? String, "up")
        // Let the dissent stand for ten probe rounds and twenty coordination polls.
        Thread.sleep(forTimeInterval: 2)  // a time window in which nothing may happen
        XCTAssertEqual(try q.actions(), [], q.logs())
        XCTAssertEqual(try q.group(leader)?["epoch"] as? Int, 0)
        let status = try q[leader].run(["status"])
        XCTAssertEqual(status.status, 0, status.stdout)
        XCTAssertTrue(status.stdout.contains("c1=up c2=up c3=down"), status.stdout)
        XCTAssertTrue(status.stdout.contains("coordination etcd: quorate, leader \(leader), 3 of 3 members alive, 2 votes needed"), status.stdout)
    }

    /// kill -9 of the leader while each step runs: another controller takes over within
    /// lease TTL + one interval, runs that step again (steps are idempotent) and finishes;
    /// every other step ran once, all under epoch 1.
    func testTheLeaderKilledDuringEachStepIsReplacedAndThePlanFinishes() throws {
        let cluster = try etcd()
        for (index, step) in ["drain", "fence", "promote", "dns"].enumerated() {
            let marker = FailoverEndToEndTests.temporaryFile("\(step).pid")
            defer {
                if let text = try? String(contentsOfFile: marker, encoding: .utf8),
                    let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
                {
                    kill(pid, SIGKILL)
                }
                try? FileManager.default.removeItem(atPath: marker)
            }
            let line = "echo $FAILOVER_STEP $FAILOVER_SITE $FAILOVER_EPOCH $TEST_CONTROLLER"
            // The first run of `step` hangs (the leader dies in it); later runs return at once.
            // (`$$$$` is the shell's `$$` once the config's `$$` escape is read.)
            let hang = "\(line) >> LOG; [ -f \(marker) ] || { echo $$$$ > \(marker); exec sleep 60; }"
            let q = try QuorumCluster(etcd: cluster, stepScript: [step: hang])
            try q.start()
            let leader = try q.waitForLeader()
            for id in QuorumCluster.ids {
                try q[id].waitFor("east up by quorum at \(id)") { try q.quorum(id, site: "east")?["verdict"] as? String == "up" }
            }
            q.east.stop()
            try q[leader].waitFor("\(step) running at the leader") { FileManager.default.fileExists(atPath: marker) }
            let killedAt = Date()
            XCTAssertEqual(q[leader].stop(signal: SIGKILL), SIGKILL)
            let others = QuorumCluster.ids.filter { $0 != leader }
            let next = try q.waitForLeader(among: others, not: leader, timeout: 20)
            XCTAssertNotEqual(next, leader)
            // The new leader re-runs the step: its line appears a second time.
            try q[next].waitFor("\(step) run again by \(next)") { (try q.actions()).filter { $0.hasPrefix(step) }.count == 2 }
            let takeover = Date().timeIntervalSince(killedAt)
            XCTAssertLessThan(takeover, QuorumCluster.leaseTTL + QuorumCluster.interval + 2.5, "hand-over took \(takeover)s\n\(q.logs())")
            for id in others { try q.waitForPrimary("west", on: id) }
            let expected = [("drain", "east"), ("fence", "east"), ("promote", "west"), ("dns", "west")].flatMap { s, site in
                let first = s == step ? ["\(s) \(site) 1 \(leader)"] : []
                let doer = index > ["drain", "fence", "promote", "dns"].firstIndex(of: s)! ? leader : next
                return first + ["\(s) \(site) 1 \(s == step ? next : doer)"]
            }
            XCTAssertEqual(try q.actions(), expected, "killed during \(step)\n\(q.logs())")
            XCTAssertTrue(
                q[next].logTail(400).contains("resuming web-1 of web at step \(index + 1) of 5 after taking over as the leader"),
                q[next].logTail())
            for id in others { XCTAssertEqual(try q.group(id)?["epoch"] as? Int, 1) }
        }
    }

    /// SIGSTOP of the leader for longer than its lease during promote, then SIGCONT: another
    /// controller finished the failover meanwhile, and the old leader takes no step on its
    /// stale leadership.
    func testALeaderStoppedLongerThanItsLeaseTakesNoStepWhenItContinues() throws {
        let marker = FailoverEndToEndTests.temporaryFile("promote.first")
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let line = "echo $FAILOVER_STEP $FAILOVER_SITE $FAILOVER_EPOCH $TEST_CONTROLLER"
        // The first promote takes 3 s (the leader is stopped in it); later ones are quick.
        let slow = "\(line) >> LOG; [ -f \(marker) ] || { touch \(marker); sleep 3; echo promote-end $TEST_CONTROLLER >> LOG; }"
        let q = try QuorumCluster(etcd: try etcd(), stepScript: ["promote": slow])
        try q.start()
        let leader = try q.waitForLeader()
        for id in QuorumCluster.ids {
            try q[id].waitFor("east up by quorum at \(id)") { try q.quorum(id, site: "east")?["verdict"] as? String == "up" }
        }
        q.east.stop()
        try q[leader].waitFor("promote running at the leader") { FileManager.default.fileExists(atPath: marker) }
        kill(q[leader].pid, SIGSTOP)
        let others = QuorumCluster.ids.filter { $0 != leader }
        let next = try q.waitForLeader(among: others, not: leader, timeout: 20)
        for id in others { try q.waitForPrimary("west", on: id) }
        // The stopped leader's promote ends while it is stopped; then it continues.
        try q[next].waitFor("the first promote ended") { (try q.actions()).contains("promote-end \(leader)") }
        let before = try q.actions()
        kill(q[leader].pid, SIGCONT)
        try q[leader].waitFor("\(leader) sees \(next) as the leader") { try q.coordination(leader)?["leader"] as? String == next }
        try q.waitForPrimary("west", on: leader)
        XCTAssertTrue(
            q[leader].logTail(400).contains("stops acting") || q[leader].logTail(400).contains("may no longer act"),
            q[leader].logTail(80))
        XCTAssertEqual(try q.actions(), before, "the old leader acted after SIGCONT\n\(q.logs())")
        XCTAssertEqual(before.filter { $0.hasPrefix("dns") }, ["dns west 1 \(next)"])
        XCTAssertEqual(before.filter { $0.hasPrefix("drain") || $0.hasPrefix("fence") }.count, 2)
    }

    /// One etcd member killed: still one leader and a failover; etcd's quorum lost: every
    /// controller is CRITICAL with an event saying why, and nothing acts.
    func testEtcdMemberLossIsToleratedAndEtcdQuorumLossStopsEverything() throws {
        let cluster = try EtcdCluster()  // its own: this test kills members
        defer { cluster.stop() }
        let q = try QuorumCluster(etcd: cluster)
        try q.start()
        cluster.kill(member: 0)
        for id in QuorumCluster.ids {
            try q[id].waitFor("east up by quorum at \(id)") { try q.quorum(id, site: "east")?["verdict"] as? String == "up" }
        }
        q.east.stop()
        for id in QuorumCluster.ids { try q.waitForPrimary("west", on: id) }
        XCTAssertEqual(try q.actions().count, 4, q.logs())
        let leader = try q.waitForLeader()

        cluster.kill(member: 1)
        for id in QuorumCluster.ids {
            try q[id].waitFor("\(id) without quorum", timeout: 20) { try q.coordination(id)?["quorate"] as? Bool == false }
            let status = try q[id].run(["status"])
            XCTAssertEqual(status.status, 2, status.stdout)
            XCTAssertTrue(status.stdout.contains("CRITICAL"), status.stdout)
            XCTAssertTrue(status.stdout.contains("no quorum"), status.stdout)
            let lost = try q.events(id).filter { $0["kind"] as? String == "quorum_lost" && $0["controller"] as? String == id }
            let message = (lost.last?["details"] as? [String: Any])?["message"] as? String ?? ""
            XCTAssertTrue(message.contains("etcd"), "quorum_lost at \(id): \(lost)")
        }
        // West, now the primary, fails: without etcd's quorum nothing acts.
        q.west.stop()
        try q[leader].waitFor("west down at \(leader)") { try q[leader].siteState("west") == "down" }
        Thread.sleep(forTimeInterval: 1.5)  // a window in which nothing may happen
        XCTAssertEqual(try q.actions().count, 4, q.logs())
    }
}
