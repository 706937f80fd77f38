import FailoverTesting
import Foundation
import Synchronization
import XCTest

/// The read model converges: three controllers on a real etcd; after every drill each
/// follower shows the incident's final result within one poll (100 ms) of the leader; a
/// controller restarted with a stale event log shows the ledger's state from its first
/// answer; and the controller that wins the next hand-over shows the ledger's state as soon
/// as it shows itself leading. `READMODEL_RUNS` runs (default 2; 10 in `make chaos`).
final class ReadModelTests: XCTestCase {
    nonisolated(unsafe) static var shared: EtcdCluster?

    override class func tearDown() {
        shared?.stop()
        shared = nil
    }

    func testEveryControllerShowsTheLedgerWithinOnePoll() throws {
        let runs = Int(ProcessInfo.processInfo.environment["READMODEL_RUNS"] ?? "") ?? 2
        let etcd = try Self.shared ?? EtcdCluster()
        Self.shared = etcd
        let q = try QuorumCluster(etcd: etcd, apiToken: "read-model-token")
        try q.start()
        for id in QuorumCluster.ids {
            try q[id].waitFor("both sites up by quorum at \(id)") {
                try q.quorum(id, site: "east")?["verdict"] as? String == "up" && q.quorum(id, site: "west")?["verdict"] as? String == "up"
            }
        }
        var followerLags: [Int] = []
        var restartedWins = 0
        for run in 1...runs {
            var leader = try q.waitForLeader()
            // A drill through the leader; each follower shows its final result within a poll.
            followerLags += try drill(q, via: leader, down: [])
            // The leader dies; the next one drills while it is down, so its event log is stale.
            let stale = leader
            q[stale].stop(signal: SIGKILL)
            leader = try q.waitForLeader(among: QuorumCluster.ids.filter { $0 != stale }, not: stale)
            followerLags += try drill(q, via: leader, down: [stale])
            let truth = try XCTUnwrap(q.group(leader))
            try q[stale].start(env: ["TEST_CONTROLLER": stale])
            let first = try firstAnswer(q[stale])
            XCTAssertEqual(first["epoch"] as? Int, truth["epoch"] as? Int, "run \(run): \(stale)'s first answer after its restart\n\(q.logs())")
            XCTAssertEqual(first["primary"] as? String, truth["primary"] as? String, "run \(run): \(stale)'s first answer")
            // The leader dies too: whoever wins (the restarted controller or the other) shows
            // the ledger's state in its first answer as the leader.
            q[leader].stop(signal: SIGKILL)
            let (winner, shown) = try firstAnswerAsLeader(q, among: QuorumCluster.ids.filter { $0 != leader })
            XCTAssertEqual(shown["epoch"] as? Int, truth["epoch"] as? Int, "run \(run): \(winner) as the new leader\n\(q.logs())")
            XCTAssertEqual(shown["primary"] as? String, truth["primary"] as? String, "run \(run): \(winner) as the new leader")
            if winner == stale { restartedWins += 1 }
            try q[leader].start(env: ["TEST_CONTROLLER": leader])
            try q[leader].waitUntilServing()
        }
        print(
            "read model: \(runs) runs; followers showed the final incident \(followerLags.sorted().map { "\($0)" }.joined(separator: ", ")) ms after the leader (max \(followerLags.max() ?? 0) ms); the restarted controller won \(restartedWins) of \(runs) hand-overs"
        )
        // One poll (100 ms) plus this test's own 10 ms polling and request time.
        XCTAssertLessThanOrEqual(followerLags.max() ?? 0, 150, "\(followerLags)")
    }

    /// Drills web to its other site through `leader`; returns each running follower's lag
    /// (ms) in first showing the drill's final result after the leader first showed it
    /// (negative: before; the leader writes etcd, then its own event log).
    private func drill(_ q: QuorumCluster, via leader: String, down: [String]) throws -> [Int] {
        let before = try XCTUnwrap(q.group(leader))
        let to = before["primary"] as? String == "east" ? "west" : "east"
        // The CLI follows the drill to its end: it runs beside the polling.
        let argv = [try BuildProducts.executable("failoverctl"), "drill", "--planned", "--group", "web", "--to", to, "--config", q[leader].configPath]
        let reply = Mutex<(status: Int32, stdout: String, stderr: String)?>(nil)
        let cli = Thread { reply.withLock { $0 = try? ChildProcess.run(argv, environment: ProcessInfo.processInfo.environment) } }
        cli.start()
        defer {
            while reply.withLock({ $0 == nil }) && !cli.isFinished { usleep(10_000) }
            let answer = reply.withLock { $0 }
            XCTAssertEqual(answer?.status, 0, "\(answer?.stdout ?? "") \(answer?.stderr ?? "")")
        }
        let incident = "web-\((before["epoch"] as? Int ?? 0) + 1)"
        func done(_ id: String) -> Bool {
            guard let g = try? q.group(id), let last = g["last_incident"] as? [String: Any] else { return false }
            return last["id"] as? String == incident && last["result"] as? String == "succeeded" && g["phase"] as? String == "steady"
        }
        let running = QuorumCluster.ids.filter { !down.contains($0) }
        let deadline = Date().addingTimeInterval(40)
        var seen: [String: Date] = [:]
        while Date() < deadline && seen.count < running.count {
            for id in running where seen[id] == nil && done(id) { seen[id] = Date() }
            usleep(10_000)
        }
        XCTAssertEqual(seen.count, running.count, "\(incident) succeeded on the leader and every running follower\n\(q.logs())")
        guard let shown = seen[leader] else { return [] }
        return running.filter { $0 != leader }.compactMap { seen[$0] }.map { Int($0.timeIntervalSince(shown) * 1000) }
    }

    /// The first `/groups/web` a restarted controller answers with.
    private func firstAnswer(_ c: ControllerProcess) throws -> [String: Any] {
        var answer: [String: Any]?
        try c.waitFor("the first /groups/web") {
            answer = try c.json("/groups/web") as? [String: Any]
            return answer != nil
        }
        return answer!
    }

    /// Waits until one of `among` shows itself the leader, then returns it and the first
    /// `/groups/web` it answers with after that.
    private func firstAnswerAsLeader(_ q: QuorumCluster, among: [String]) throws -> (String, [String: Any]) {
        var winner: String?
        try q[among[0]].waitFor("a new leader among \(among)", timeout: 30) {
            winner = among.first { id in ((try? q.coordination(id))??["leader"] as? String) == id }
            return winner != nil
        }
        return (winner!, try firstAnswer(q[winner!]))
    }
}
