import FailoverCore
import FailoverTesting
import Foundation
import XCTest

/// Role changes through the binary against a real PostgreSQL 15 primary and streaming
/// replica, the old primary reached over a real sshd on loopback, with a client writing a
/// row every 50 ms into whichever server accepts it. Every test asserts on the rows.
final class LosslessDrillTests: XCTestCase {
    static let token = "lossless-token-0123456789abcdef"

    /// A site file for `node`: a postgres check, and postgres fence (with a host block
    /// reached over `ssh`) and promote actions; with `edge`, HAProxy drain and ready of the
    /// site's server and a PowerDNS record pointing at `address`.
    static func site(
        _ name: String, _ node: PostgresNode, ssh: SSHServer, edge: (HAProxyServer, PowerDNSServer)? = nil,
        address: String = "127.0.0.1"
    ) throws -> String {
        guard case .ssh(let target) = ssh.databaseHost().access else { throw XCTSkip("unreachable") }
        let host = node.host(.ssh(target))
        func list(_ argv: [String]) throws -> String { String(decoding: try JSONEncoder().encode(argv), as: UTF8.self) }
        let actions = """
            fence:
              postgres:
                dsn: "\(node.dsn)"
                host:
                  ssh: \(target.destination)
                  port: \(target.port ?? 22)
                  identity_file: \(target.identityFile ?? "")
                  known_hosts: \(target.knownHostsFile ?? "")
                  ssh_config: \(target.configFile ?? "")
                  data_directory: \(host.dataDirectory)
                  stop: \(try list(host.stop))
                  start: \(try list(host.start))
                  pg_rewind: \(host.pgRewind)
            promote: { postgres: { dsn: "\(node.dsn)" } }
            """ + (edge.map { haproxy, pdns in
                let lb = "{ haproxy: { admin: \"\(haproxy.adminTCP)\", backend: web, server: \(name) } }"
                return """

                    drain: \(lb)
                    ready: \(lb)
                    dns: { powerdns: { api: "\(pdns.apiURL)", key: "\(pdns.apiKey)", zone: example.test., name: app.example.test., type: A, ttl: 30, content: \(address) } }
                    """
            } ?? "")
        return ControllerProcess.site(
            name, interval: "300ms", timeout: "250ms", fall: 2, rise: 1, checks: "- name: db\n  postgres: \(node.dsn)",
            actions: actions)
    }

    /// Runs `failoverctl ARGS --config` of `c` off the cooperative pool (the writer needs it).
    static func command(_ c: ControllerProcess, _ args: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let argv = [try BuildProducts.executable("failoverctl")] + args + ["--config", c.configPath]
        return try await Blocking.run { try ChildProcess.run(argv, environment: ProcessInfo.processInfo.environment) }
    }

    /// A running controller watching `east` and `west` (group `web`, primary east, the plan
    /// `plan` and extra group keys `keys`), both sites seen up.
    static func started(
        east: PostgresNode, west: PostgresNode, ssh: SSHServer, plan: String, keys: String = "",
        edge: (HAProxyServer, PowerDNSServer)? = nil
    ) throws -> ControllerProcess {
        let group = """
            groups:
              - name: web
                primary: east
                standbys: [west]\(keys)
                plan: \(plan)
            """
        let c = try ControllerProcess(
            sites: [
                "east": try site("east", east, ssh: ssh, edge: edge, address: "127.0.0.1"),
                "west": try site("west", west, ssh: ssh, edge: edge, address: "127.0.0.2"),
            ], extra: group, apiToken: token)
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("both sites up") { try c.siteState("east") == "up" && c.siteState("west") == "up" }
        return c
    }

    func testADrillWithFailbackLosesNoAcknowledgedWriteAndLeavesAStreamingReplica() async throws {
        let cluster = try await PostgresCluster.start()
        let ssh = try await SSHServer.start()
        let (east, west) = (cluster.primary, cluster.replica)
        try east.psql("CREATE TABLE acked (id int PRIMARY KEY)")
        let haproxy = try await HAProxyServer.start()
        let pdns = try await PowerDNSServer.start()
        let c = try Self.started(
            east: east, west: west, ssh: ssh, plan: "[drain, {step: fence, retries: 0, on_failure: continue}, promote, ready, dns, verify, rejoin]",
            keys: "\n    rto: 30s\n    rpo: 1s", edge: (haproxy, pdns))

        let writer = AckedWriter(dsns: [east.dsn, west.dsn])
        writer.start()
        try await writer.waitForMore(10)
        let drill = try await Self.command(c, ["drill", "--planned", "--group", "web", "--to", "west", "--failback"])
        try await writer.waitForMore(10)
        let acks = await writer.stop()
        print(drill.stdout)
        XCTAssertEqual(drill.status, 0, drill.stdout + drill.stderr + c.logTail(80))
        XCTAssertTrue(drill.stdout.contains("web-1  drill  east → west  succeeded  PASS"), drill.stdout)
        XCTAssertTrue(drill.stdout.contains("web-2  drill  west → east  succeeded  PASS"), drill.stdout)

        let rows = Set(try east.psql("SELECT id FROM acked").split(separator: "\n").compactMap { Int($0) })
        let lost = acks.map(\.id).filter { !rows.contains($0) }
        XCTAssertEqual(lost, [], "acknowledged but lost")
        XCTAssertTrue(acks.contains { $0.server == 1 }, "west took writes between the legs")
        XCTAssertEqual(try east.psql("SELECT pg_is_in_recovery()"), "f")
        try await Blocking.run {
            try east.waitUntil("west streams from east", timeout: .seconds(20)) {
                try $0.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1"
            }
        }
        XCTAssertEqual(try west.psql("SELECT pg_is_in_recovery()"), "t")
        XCTAssertEqual(try haproxy.adminState("east"), 0, "east back in the load balancer")
        XCTAssertNotEqual(try haproxy.adminState("west"), 0, "west drained")
        XCTAssertEqual(try pdns.dig(), ["127.0.0.1"], "the name points at east again")

        let report = try c.run(["report", "--group", "web", "--json"])
        let incidents = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(incidents.count, 2, report.stdout)
        for entry in incidents {
            let incident = try XCTUnwrap(entry["incident"] as? [String: Any])
            XCTAssertEqual((incident["lag"] as? [String: Any])?["bytes"] as? Int, 0, "RPO 0 B: \(incident)")
            let steps = incident["steps"] as? [[String: Any]] ?? []
            XCTAssertTrue(steps.contains { ($0["kind"] as? String) == "rejoin" && ($0["result"] as? String) == "ok" }, "\(steps)")
        }
        let events = try c.run(["events", "--json"])
        XCTAssertFalse(events.stdout.contains("\"split_brain\""), "no split brain during one's own drill")
        try c.waitFor("status OK: one writable primary and a streaming replica") { try c.run(["status"]).status == 0 }
        // By hand: rejoining the replica changes nothing; the primary is refused.
        let again = try await Self.command(c, ["rejoin", "--group", "web", "--site", "west"])
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
        XCTAssertTrue(again.stdout.contains("west is already a streaming replica of east on timeline 3"), again.stdout)
        let primary = try await Self.command(c, ["rejoin", "--group", "web", "--site", "east"])
        XCTAssertEqual(primary.status, 2, primary.stdout + primary.stderr)
        XCTAssertTrue(primary.stderr.contains("east is web's primary"), primary.stderr)
        // Right after the rejoin west's control file may still show an older timeline; cut
        // from its primary it must still count as east's replica and take over.
        east.killNine()
        try c.waitFor("web failed over to west", timeout: 30) {
            let group = try c.json("/groups/web") as? [String: Any]
            return group?["primary"] as? String == "west" && group?["phase"] as? String == "steady"
        }
        XCTAssertEqual(try west.psql("SELECT pg_is_in_recovery()"), "f")
        let survived = Set(try west.psql("SELECT id FROM acked").split(separator: "\n").compactMap { Int($0) })
        XCTAssertEqual(acks.map(\.id).filter { !survived.contains($0) }, [], "west had every row when east died")
        XCTAssertEqual(c.stop(), 0, c.logTail())
    }

    func testADrillWithFailbackIsRefusedUpFrontWithoutARejoinStep() async throws {
        let cluster = try await PostgresCluster.start()
        let ssh = try await SSHServer.start()
        let c = try Self.started(east: cluster.primary, west: cluster.replica, ssh: ssh, plan: "[fence, promote, verify]")
        let drill = try await Self.command(c, ["drill", "--planned", "--group", "web", "--failback"])
        XCTAssertNotEqual(drill.status, 0)
        XCTAssertTrue((drill.stdout + drill.stderr).contains("plan has no rejoin step"), drill.stdout + drill.stderr)
        XCTAssertEqual(try cluster.primary.psql("SELECT pg_is_in_recovery()"), "f", "nothing was done")
        XCTAssertEqual(c.stop(), 0, c.logTail())
    }

    func testASiteWhoseDatabaseIsNoReplicaIsRefusedForADrillAndSkippedByAFailoverThatSaysWhy() async throws {
        let cluster = try await PostgresCluster.start()
        let stranger = try await PostgresCluster.start()
        let ssh = try await SSHServer.start()
        let c = try Self.started(east: cluster.primary, west: stranger.primary, ssh: ssh, plan: "[fence, promote, verify]")
        let drill = try await Self.command(c, ["drill", "--planned", "--group", "web", "--to", "west"])
        XCTAssertEqual(drill.status, 2, drill.stdout + drill.stderr)
        XCTAssertTrue((drill.stdout + drill.stderr).contains("west is not eligible: its database (system"), drill.stdout + drill.stderr)
        XCTAssertTrue((drill.stdout + drill.stderr).contains("is not a replica of east's"), drill.stdout + drill.stderr)

        cluster.primary.killNine()
        try c.waitFor("no eligible target", timeout: 30) {
            try c.run(["events", "--json"]).stdout.contains("\"no_eligible_target\"")
        }
        let events = try c.run(["events", "--json"]).stdout
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(events.utf8)) as? [[String: Any]])
        let held = try XCTUnwrap(list.last { $0["kind"] as? String == "no_eligible_target" })
        let message = (held["details"] as? [String: Any])?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("west: its database (system"), message)
        XCTAssertTrue(message.contains("is not a replica of east's"), message)
        XCTAssertFalse(events.contains("\"failover_started\""), "nothing was promoted")
        let state = try XCTUnwrap(try c.json("/groups/web") as? [String: Any])
        XCTAssertEqual(state["primary"] as? String, "east")
        XCTAssertEqual(c.stop(), 0, c.logTail())
    }
}
