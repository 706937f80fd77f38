import FailoverTesting
import Foundation
import XCTest

/// The coordination metrics of three controllers on a real 3-member etcd cluster: every
/// scrape passes promtool, exactly one controller reports itself leader, all see three live
/// members; a follower killed is seen dead by the others once its lease expires, and they
/// stay quorate.
final class MetricsQuorumTests: XCTestCase {
    private func scrape(_ c: ControllerProcess) throws -> PrometheusScrape? {
        guard let data = try c.get("/metrics") else { return nil }
        return try PrometheusScrape(String(decoding: data, as: UTF8.self))
    }

    func testOneLeaderAndTheLiveMembersAreInEveryControllersMetrics() throws {
        let etcd = try EtcdCluster()
        defer { etcd.stop() }
        let q = try QuorumCluster(etcd: etcd)
        try q.start()
        let leader = try q.waitForLeader()
        var scrapes: [String: PrometheusScrape] = [:]
        for id in QuorumCluster.ids {
            try q[id].waitFor("three live members in \(id)'s metrics") {
                scrapes[id] = try self.scrape(q[id])
                return scrapes[id]?.value("failoverctl_coordination_members_alive") == 3
            }
        }
        for (id, scrape) in scrapes {
            let check = try Promtool.run(["check", "metrics"], input: scrape.text)
            XCTAssertEqual(check.status, 0, "promtool on \(id): \(check.output)")
            XCTAssertEqual(scrape.value("failoverctl_coordination_quorate"), 1, id)
            XCTAssertEqual(scrape.value("failoverctl_coordination_members"), 3, id)
            XCTAssertEqual(scrape.value("failoverctl_coordination_votes_needed"), 2, id)
            XCTAssertEqual(scrape.value("failoverctl_coordination_leader_known"), 1, id)
            XCTAssertEqual(
                scrape.value("failoverctl_coordination_leader", ["controller": id]), id == leader ? 1 : 0, id)
        }
        // What the FailoverctlNoLeader and FailoverctlSeveralLeaders rules sum over all controllers.
        XCTAssertEqual(
            scrapes.values.compactMap { $0.samples("failoverctl_coordination_leader").first?.value }.reduce(0, +), 1)

        let follower = try XCTUnwrap(QuorumCluster.ids.first { $0 != leader })
        q[follower].stop(signal: SIGKILL)
        for id in QuorumCluster.ids where id != follower {
            try q[id].waitFor("\(follower) seen dead by \(id) after its lease", timeout: QuorumCluster.leaseTTL * 5) {
                let s = try self.scrape(q[id])
                return s?.value("failoverctl_coordination_member_alive", ["member": follower]) == 0
            }
            let s = try XCTUnwrap(try scrape(q[id]))
            XCTAssertEqual(s.value("failoverctl_coordination_members_alive"), 2, id)
            XCTAssertEqual(s.value("failoverctl_coordination_quorate"), 1, id)
            XCTAssertEqual(s.value("failoverctl_coordination_member_alive", ["member": id]), 1, id)
        }
    }
}
