import Coordination
import EventLog
import FailoverCore
import FailoverTesting
import Foundation
import Logging
import XCTest

@testable import Controller

/// `GET /metrics` figures from the real board and registry: probe rounds are counted and
/// timed as they are taken in, state gauges follow the status report, a completed failover
/// is counted with its RTO and RPO, and two runtimes in one process keep their own figures.
final class MetricsTests: XCTestCase {
    private let wall = ManualWallClock()

    private func config(groups: [GroupConfig] = []) -> ControllerConfig {
        let check = CheckConfig(name: "db", kind: .tcp(ListenAddress(host: "127.0.0.1", port: 1)))
        return ControllerConfig(
            id: "c1", listen: ListenAddress(host: "127.0.0.1", port: 7400), stateDir: "/nonexistent",
            sites: [
                SiteConfig(name: "east", fall: 1, rise: 1, checks: [check]), SiteConfig(name: "west", checks: [check]),
            ],
            groups: groups)
    }

    private func round(_ diagnosis: Diagnosis, ms: Double) -> ProbeRound {
        ProbeRound(
            at: wall.now(),
            results: [
                ProbeResult(
                    check: "db", kind: "tcp", at: wall.now(), diagnosis: diagnosis, timings: ProbeTimings(total: ms))
            ])
    }

    func testProbeRoundsAreCountedAndTimedAndVerdictsAreOneHot() async throws {
        let config = config()
        let metrics = ControllerMetrics(config: config)
        let board = StatusBoard(
            config: config, startedAt: wall.now(), store: try EventStore.inMemory(),
            coordinator: LocalCoordinator(id: "c1"),
            wallClock: wall, logger: Logger(label: "test"), metrics: metrics)
        await board.roundFinished(site: "east", round: round(.ok, ms: 3), lateness: .zero)
        await board.roundFinished(site: "east", round: round(.refused, ms: 150), lateness: .zero)
        await board.roundFinished(site: "east", round: round(.probeUnavailable, ms: 0), lateness: .zero)
        let scrape = try PrometheusScrape(String(decoding: metrics.exposition(of: await board.report()), as: UTF8.self))

        let east = ["site": "east", "check": "db"]
        XCTAssertEqual(scrape.value("failoverctl_probe_total", east.merging(["result": "ok"]) { $1 }), 1)
        XCTAssertEqual(scrape.value("failoverctl_probe_total", east.merging(["result": "fail"]) { $1 }), 1)
        XCTAssertEqual(scrape.value("failoverctl_probe_total", east.merging(["result": "inconclusive"]) { $1 }), 1)
        XCTAssertEqual(
            scrape.value("failoverctl_probe_duration_seconds_count", east.merging(["kind": "tcp"]) { $1 }), 2)
        XCTAssertEqual(
            try XCTUnwrap(scrape.value("failoverctl_probe_duration_seconds_sum", east)), 0.153, accuracy: 1e-9)
        XCTAssertEqual(
            scrape.value("failoverctl_probe_duration_seconds_bucket", east.merging(["le": "0.005"]) { $1 }), 1)
        XCTAssertEqual(
            scrape.value("failoverctl_probe_duration_seconds_bucket", east.merging(["le": "+Inf"]) { $1 }), 2)
        XCTAssertEqual(scrape.types["failoverctl_probe_duration_seconds"], "histogram")
        // West was never probed: its series exist at zero from the start.
        XCTAssertEqual(scrape.value("failoverctl_probe_total", ["site": "west", "result": "fail"]), 0)

        // fall 1: the failed round took east down; the local quorum agrees.
        XCTAssertEqual(scrape.value("failoverctl_site_up", ["site": "east"]), 0)
        XCTAssertEqual(
            scrape.samples("failoverctl_site_verdict", ["site": "east"]).filter { $0.value == 1 }.map {
                $0.labels["verdict"]
            }, ["down"])
        XCTAssertEqual(scrape.samples("failoverctl_site_verdict", ["site": "east"]).count, Verdict.allCases.count)
        XCTAssertEqual(scrape.value("failoverctl_site_state", ["site": "east", "state": "down"]), 1)
        XCTAssertEqual(scrape.value("failoverctl_site_verdict", ["site": "west", "verdict": "unknown"]), 1)
        XCTAssertEqual(scrape.value("failoverctl_coordination_quorate"), 1)
        XCTAssertEqual(scrape.value("failoverctl_coordination_leader", ["controller": "c1"]), 1)
        XCTAssertEqual(scrape.value("failoverctl_coordination_members_alive"), 1)
        XCTAssertEqual(scrape.value("failoverctl_alert_outbox_pending"), 0)
    }

    func testGroupGaugesFollowTheReport() throws {
        let group = GroupConfig(
            name: "web", primary: "east", standbys: [Standby(site: "west", priority: 1)], rto: .seconds(30),
            plan: [PlanStep(kind: .verify)])
        let metrics = ControllerMetrics(config: config(groups: [group]))
        let status = GroupStatus(
            name: "web", primary: "west", configuredPrimary: "east", sites: ["east", "west"], phase: "stuck", epoch: 3,
            paused: false, failover: .automatic)
        let report = StatusReport(
            controller: "c1", startedAt: Timestamp(milliseconds: 1_700_000_000_000), generatedAt: wall.now(),
            source: "api",
            coordination: CoordinationStatus(backend: "local", quorate: false, leader: nil, members: ["c1"]), sites: [],
            groups: [status])
        let scrape = try PrometheusScrape(String(decoding: metrics.exposition(of: report), as: UTF8.self))
        XCTAssertEqual(scrape.value("failoverctl_group_epoch", ["group": "web"]), 3)
        XCTAssertEqual(scrape.value("failoverctl_group_primary", ["group": "web", "site": "west"]), 1)
        XCTAssertEqual(scrape.value("failoverctl_group_primary", ["group": "web", "site": "east"]), 0)
        XCTAssertEqual(
            scrape.samples("failoverctl_group_state", ["group": "web"]).filter { $0.value == 1 }.map {
                $0.labels["state"]
            }, ["stuck"])
        XCTAssertEqual(
            scrape.samples("failoverctl_group_state", ["group": "web"]).count, ReportGauges.groupStates.count)
        XCTAssertEqual(scrape.value("failoverctl_group_rto_target_seconds", ["group": "web"]), 30)
        XCTAssertEqual(scrape.value("failoverctl_coordination_quorate"), 0)
        XCTAssertEqual(scrape.value("failoverctl_coordination_leader", ["controller": "c1"]), 0)
        XCTAssertEqual(scrape.value("failoverctl_coordination_leader_known"), 0)
        XCTAssertEqual(scrape.value("failoverctl_controller_start_time_seconds"), 1_700_000_000)
        // Every kind starts at zero, so increase() sees the first failover; no RTO until one is measured.
        XCTAssertEqual(scrape.samples("failoverctl_failovers_total", ["group": "web"]).map(\.value), [0, 0, 0, 0])
        XCTAssertNil(scrape.value("failoverctl_last_rto_seconds", ["group": "web"]))
    }

    func testACompletedFailoverIsCountedWithItsRTOAndRPO() throws {
        let group = GroupConfig(
            name: "web", primary: "east", standbys: [Standby(site: "west", priority: 1)],
            plan: [PlanStep(kind: .verify)])
        let metrics = ControllerMetrics(config: config(groups: [group]))
        let other = ControllerMetrics(config: config(groups: [group]))
        var incident = Incident(
            id: "web-1", group: "web", kind: .failover, planned: false, from: "east", to: "west", epoch: 1,
            decided: Timestamp(milliseconds: 10_000))
        incident.firstFail = Timestamp(milliseconds: 7_500)
        incident.restored = Timestamp(milliseconds: 12_000)
        incident.lag = ReplicationLag(bytes: 8_192, seconds: 0.25)
        incident.result = .succeeded
        metrics.recordSucceeded(incident)

        let report = StatusReport(
            controller: "c1", startedAt: nil, generatedAt: wall.now(), source: "api",
            coordination: CoordinationStatus(backend: "local", quorate: true, leader: "c1", members: ["c1"]), sites: [])
        let scrape = try PrometheusScrape(String(decoding: metrics.exposition(of: report), as: UTF8.self))
        XCTAssertEqual(scrape.value("failoverctl_failovers_total", ["group": "web", "kind": "failover"]), 1)
        XCTAssertEqual(scrape.value("failoverctl_failovers_total", ["group": "web", "kind": "drill"]), 0)
        XCTAssertEqual(scrape.value("failoverctl_last_rto_seconds", ["group": "web"]), 4.5)
        XCTAssertEqual(scrape.value("failoverctl_last_rpo_bytes", ["group": "web"]), 8_192)
        XCTAssertEqual(scrape.value("failoverctl_last_rpo_seconds", ["group": "web"]), 0.25)

        // Another runtime in the same process has its own registry: nothing leaked into it.
        let untouched = try PrometheusScrape(String(decoding: other.exposition(of: report), as: UTF8.self))
        XCTAssertEqual(untouched.value("failoverctl_failovers_total", ["group": "web", "kind": "failover"]), 0)
        XCTAssertNil(untouched.value("failoverctl_last_rto_seconds", ["group": "web"]))
    }
}
