import FailoverTesting
import Foundation
import XCTest

/// Real controllers cut off from real etcd members by network namespaces that drop
/// packets silently (see `PartitionCluster`, `NetnsLab`): a leader cut off during a step
/// must stop acting before its lease can have expired, and never overlap its successor.
/// Its lease ends at the latest lease_ttl after the cut: its last renewal was sent before
/// it. Except when the one etcd member it still reaches was the raft leader: that member
/// renews leases alone until check-quorum makes it step down, so lease_ttl after that.
///
/// `PARTITION_RUNS` runs per scenario (default 2; 20 for the acceptance run). One lab
/// serves every test of the suite.
final class PartitionTests: XCTestCase {
    nonisolated(unsafe) static var shared: PartitionCluster?

    func cluster() throws -> PartitionCluster {
        if let cluster = Self.shared { return cluster }
        let cluster = try PartitionCluster()
        try cluster.start()
        Self.shared = cluster
        return cluster
    }

    override class func tearDown() { shared = nil }

    static var runs: Int { Int(ProcessInfo.processInfo.environment["PARTITION_RUNS"] ?? "") ?? 2 }

    /// The leader cut from every etcd member 1 s into an 8 s step.
    func testPartitionALeaderCutFromEveryEtcdMemberStopsActingWithinItsLease() throws {
        try scenario(.allEtcd)
    }

    /// The leader cut from the etcd majority 1 s into an 8 s step; it still reaches one
    /// member, which lost its raft quorum.
    func testPartitionALeaderCutFromTheEtcdMajorityStopsActingWithinItsLease() throws {
        try scenario(.majorityOnly)
    }

    /// kill -9 of the leader 1 s into an 8 s exec step: the step's whole process group is
    /// gone within 100 ms of the controller's death, and its successor's re-run never
    /// overlaps it. `KILL_RUNS` runs (default 2; 10 for the acceptance run).
    func testKill9OfTheLeaderDuringAnExecStepLeavesNoChildAndNoOverlap() throws {
        let q = try cluster()
        let runs = Int(ProcessInfo.processInfo.environment["KILL_RUNS"] ?? "") ?? 2
        var figures: [KillRunFigures] = []
        for run in 1...runs {
            do {
                let f = try q.killRun(number: run)
                print(f.line)
                figures.append(f)
                XCTAssertLessThanOrEqual(f.childGoneMs ?? .infinity, 100, f.line)
                XCTAssertEqual(f.overlapMs, 0, f.line)
            } catch {
                XCTFail("kill run \(run): \(error)")
            }
        }
        let worst = figures.compactMap(\.childGoneMs).max() ?? .infinity
        print(
            "kill -9 of the leader: \(figures.count) runs, worst \(String(format: "%.1f", worst)) ms until its step's group was gone, "
                + "\(figures.filter { $0.overlapMs > 0 }.count) overlaps")
    }

    private func scenario(_ scenario: PartitionScenario) throws {
        let q = try cluster()
        var figures: [PartitionRunFigures] = [], failed = 0
        for run in 1...Self.runs {
            do {
                let f = try q.partitionRun(scenario, number: run)
                print(f.line)
                figures.append(f)
                XCTAssertLessThanOrEqual(
                    f.oldEnd, f.deadline, "\(f.line)\nthe old leader acted past its lease deadline")
                XCTAssertEqual(f.overlapMs, 0, "\(f.line)\nthe old and the new leader ran steps at the same time")
            } catch {
                failed += 1
                XCTFail("partition \(scenario.rawValue) run \(run): \(error)")
            }
        }
        let summary =
            "partition \(scenario.rawValue): \(figures.count) runs, "
            + "\(figures.filter(\.pastDeadline).count) past the lease deadline, "
            + "\(figures.filter { $0.overlapMs > 0 }.count) overlaps"
            + (failed > 0 ? ", \(failed) runs that did not finish" : "")
        print(summary)
    }

    // MARK: the harness itself

    /// The action log's lines become intervals: a START closed by the next END or KILLED of
    /// its pid, else by when its process was seen gone, else still running; overlaps are
    /// measured between intervals, an open one up to `now`.
    func testHarnessStepIntervalsFromTheActionLog() throws {
        let text = """
            1000 START drain east 1 - c1 11
            1200 START fence east 1 1.2 c2 22
            1500 KILLED drain east 1 - c1 11
            1600 START drain east 1 - c3 33
            1700 END fence east 1 1.2 c2 22
            bad line
            """
        let lines = text.split(separator: "\n").compactMap(StepLine.init)
        XCTAssertEqual(lines.count, 5)
        let intervals = StepInterval.from(lines, processEnds: [33: 1900])
        XCTAssertEqual(intervals.map(\.controller), ["c1", "c2", "c3"])
        XCTAssertEqual(intervals.map(\.end), [1500, 1700, 1900])
        XCTAssertEqual(intervals.map(\.ending), ["KILLED", "END", "gone"])
        XCTAssertEqual(intervals[1].token, "1.2")
        XCTAssertEqual(intervals[0].overlap(with: intervals[1], now: 5000), 300)
        XCTAssertEqual(intervals[0].overlap(with: intervals[2], now: 5000), 0)
        let open = StepInterval.from(Array(lines.prefix(1)), processEnds: [:])
        XCTAssertEqual(open.first?.ending, "running")
        XCTAssertEqual(open.first?.overlap(with: intervals[2], now: 1700), 100)
    }

    /// One controller isolated: a connect across a cut link times out instead of being
    /// refused, the others see its lease expire, it knows it is not quorate, and all works
    /// again after `heal`; an etcd member cut from the other two loses its
    /// raft leader while they keep theirs.
    func testHarnessCutsDropSilentlyAndHeal() throws {
        let q = try cluster()
        try q.waitUntilSteady()
        let e1 = q.lab["e1"].address
        XCTAssertEqual(q.lab.http("c1", host: e1, port: 2379, path: "/health")?.status, 200)
        let change = try q.lab.isolate(["c1"])
        defer { _ = try? q.lab.heal() }
        XCTAssertEqual(change.dropping.count, 6, "\(change.dropping)")  // c1→e1..e3 and e1..e3→c1
        let started = ContinuousClock.now
        XCTAssertNil(q.lab.http("c1", host: e1, port: 2379, path: "/health", timeout: .milliseconds(800)))
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(750), "refused, not dropped")
        try q.wait("c2 sees c1's lease expire", timeout: 10) {
            (q.coordination("c2")?["member_states"] as? [[String: Any]])?.first { $0["id"] as? String == "c1" }?[
                "alive"] as? Bool == false
        }
        try q.wait("c1, cut from etcd, no longer quorate", timeout: 10) {
            q.coordination("c1")?["quorate"] as? Bool == false
        }
        try q.lab.partition([["e1"], ["e2", "e3", "c1", "c2", "c3"]])
        // e2 and e3 keep (or elect within an election timeout) a raft leader; e1 has none.
        try q.wait("e1 without a raft leader, e2 with one", timeout: 10) {
            !q.etcd.isHealthy(member: "e1") && q.etcd.isHealthy(member: "e2")
        }
        // One way only: c1's packets to e1 are dropped, to e2 they pass.
        try q.lab.heal()
        try q.lab.dropOneWay(from: "c1", to: "e1")
        XCTAssertEqual(q.lab.droppingLinks, ["c1→e1"])
        XCTAssertNil(q.lab.http("c1", host: e1, port: 2379, path: "/health", timeout: .milliseconds(300)))
        XCTAssertNotNil(q.lab.http("c1", host: q.lab["e2"].address, port: 2379, path: "/health"))
        try q.lab.heal()
        XCTAssertEqual(q.lab.droppingLinks, [])
        try q.waitUntilSteady()
        XCTAssertEqual(q.lab.http("c1", host: e1, port: 2379, path: "/health")?.status, 200)
    }

    /// kill -9 and restart of a follower, SIGSTOP and SIGCONT of the leader, kill and
    /// restart of an etcd member: each is seen by the others, and the cluster comes back
    /// steady.
    func testHarnessChaosActionsAreSeenAndTheClusterRecovers() throws {
        let q = try cluster()
        let leader = try q.waitUntilSteady()
        let follower = PartitionCluster.ids.first { $0 != leader }!
        q.kill9(follower)
        try q.wait("\(leader) sees \(follower) dead", timeout: 10) { !q.alive(follower, seenBy: leader) }
        try q.restart(follower)
        try q.waitUntilSteady()

        q.pause(leader)
        let others = PartitionCluster.ids.filter { $0 != leader }
        try q.wait("a new leader while \(leader) is stopped", timeout: 15) {
            others.allSatisfy { id in q.leader(seenBy: id).map { $0 != leader } ?? false }
        }
        q.resume(leader)
        XCTAssertNotEqual(try q.waitUntilSteady(), leader)

        let member = "e2"
        q.etcd.kill(member: member)
        XCTAssertFalse(q.etcd.isHealthy(member: member))
        try q.wait("every controller quorate on two etcd members", timeout: 10) {
            PartitionCluster.ids.allSatisfy { q.coordination($0)?["quorate"] as? Bool == true }
        }
        try q.etcd.restart(member: member)
        try q.waitUntilSteady()
    }
}
