import Coordination
import EventLog
import FailoverCore
import FailoverTesting
import Foundation
import Logging
import XCTest

@testable import Controller

/// A lost quorum takes the right to act away from the snapshot the board builds (the
/// events of losing and regaining it are the leadership machine's: LeadershipScenarios).
final class QuorumEventTests: XCTestCase {
    func testALostQuorumTakesTheRightToActAwayFromTheSnapshot() async throws {
        let wall = ManualWallClock()
        let store = try EventStore.inMemory()
        let site = SiteConfig(name: "east", checks: [CheckConfig(name: "db", kind: .tcp(ListenAddress(host: "127.0.0.1", port: 1)))])
        let config = ControllerConfig(
            id: "c1", listen: ListenAddress(host: "127.0.0.1", port: 7400), stateDir: "/nonexistent", sites: [site])
        let board = StatusBoard(
            config: config, startedAt: wall.now(), store: store, coordinator: LocalCoordinator(id: "c1"), wallClock: wall,
            logger: Logger(label: "test"))
        let policy = QuorumPolicy(members: ["c1", "c2", "c3"])
        func view(quorate: Bool) -> CoordinationView {
            CoordinationView(backend: "test", me: "c1", policy: policy, votes: [], leader: quorate ? "c1" : nil, quorate: quorate)
        }
        await board.apply(view(quorate: true))
        await board.apply(view(quorate: false))
        await board.apply(view(quorate: false))
        let lost = await board.snapshot()
        XCTAssertFalse(lost.canAct)
        XCTAssertEqual(lost.whyNot, "no quorum")
        await board.apply(view(quorate: true))
        let canAct = await board.snapshot().canAct
        XCTAssertTrue(canAct)
    }
}

/// A replica's lag from its postgres check reaches the snapshot the election reads.
final class SnapshotLagTests: XCTestCase {
    func testThePostgresChecksLagIsTheSitesLagInTheSnapshot() async throws {
        let wall = ManualWallClock()
        let site = SiteConfig(name: "west", fall: 1, rise: 1, checks: [
            CheckConfig(name: "db", kind: .tcp(ListenAddress(host: "127.0.0.1", port: 5432)))
        ])
        let config = ControllerConfig(
            id: "c1", listen: ListenAddress(host: "127.0.0.1", port: 7400), stateDir: "/nonexistent", sites: [site])
        let board = StatusBoard(
            config: config, startedAt: wall.now(), store: try EventStore.inMemory(), coordinator: LocalCoordinator(id: "c1"),
            wallClock: wall, logger: Logger(label: "test"))
        var result = ProbeResult(check: "db", kind: "postgres", at: wall.now(), diagnosis: .ok, timings: ProbeTimings(total: 2))
        result.role = "replica"
        result.lagBytes = 4_096
        result.lagSeconds = 1.5
        await board.roundFinished(site: "west", round: ProbeRound(at: wall.now(), results: [result]), lateness: .zero)
        let snapshot = await board.snapshot()
        XCTAssertEqual(snapshot.site("west").lag, ReplicationLag(bytes: 4_096, seconds: 1.5))
        XCTAssertEqual(snapshot.site("west").verdict, .up)
        XCTAssertEqual(snapshot.site("west").latencyMs, 2)
    }
}

/// The alert sender's wake-up: a kick is never lost, and a wait that a kick ended leaves no
/// stale wake-up behind (a cancelled timer must not kick the next wait).
final class WakeupTests: XCTestCase {
    func testAKickEndsTheWaitAndTheNextWaitStillWaits() async {
        let wakeup = Wakeup()
        wakeup.kick()
        let clock = ContinuousClock()
        let first = clock.now
        await wakeup.wait(upTo: .seconds(10))
        XCTAssertLessThan(first.duration(to: clock.now), .seconds(1), "a kick before the wait is not lost")
        for _ in 0..<3 {
            let start = clock.now
            await wakeup.wait(upTo: .milliseconds(300))
            XCTAssertGreaterThanOrEqual(start.duration(to: clock.now), .milliseconds(250), "no stale wake-up")
        }
    }
}

/// Two sites of a group that both report the PostgreSQL primary role are a split brain:
/// one `split_brain` event per episode, which alerts.
final class SplitBrainTests: XCTestCase {
    func testTwoWritablePrimariesAreRecordedOncePerEpisodeAFencedOneIsNotAndTheEndResolves() async throws {
        let wall = ManualWallClock()
        let store = try EventStore.inMemory()
        let sites = ["east", "west"].map { name in
            SiteConfig(name: name, fall: 1, rise: 1, checks: [CheckConfig(name: "db", kind: .tcp(ListenAddress(host: "127.0.0.1", port: 5432)))])
        }
        let group = GroupConfig(name: "web", primary: "east", standbys: [Standby(site: "west", priority: 1)], plan: [PlanStep(kind: .promote)])
        let config = ControllerConfig(
            id: "c1", listen: ListenAddress(host: "127.0.0.1", port: 7400), stateDir: "/nonexistent", sites: sites, groups: [group])
        let board = StatusBoard(
            config: config, startedAt: wall.now(), store: store, coordinator: LocalCoordinator(id: "c1"), wallClock: wall,
            logger: Logger(label: "test"))
        func round(_ site: String, _ role: DatabaseObservation.Role) async {
            var result = ProbeResult(check: "db", kind: "postgres", at: wall.now(), diagnosis: .ok, timings: ProbeTimings(total: 1))
            result.role = role.rawValue
            result.database = DatabaseObservation(systemIdentifier: "1", timeline: 1, role: role, position: WALPosition(1))
            await board.roundFinished(site: site, round: ProbeRound(at: wall.now(), results: [result]), lateness: .zero)
        }
        await round("east", .primary)
        await round("west", .replica)
        await round("west", .primary)  // promoted while east still takes writes
        await round("east", .primary)
        await round("west", .primary)
        await round("east", .fencedPrimary)  // fenced: no longer a second writable primary, the episode ends
        await round("east", .replica)  // rejoined
        await round("east", .primary)  // a second episode
        let splits = try store.events(EventQuery(kinds: [.splitBrain]))
        XCTAssertEqual(splits.count, 2)
        XCTAssertEqual(splits.first?.group, "web")
        XCTAssertEqual(splits.first?.details["message"]?.stringValue?.contains("sites east and west all run a writable PostgreSQL primary"), true)
        guard let first = splits.first else { return }
        XCTAssertEqual(AlertRules.alerts(for: first).first?.kind, .splitBrain)
        let ended = try store.events(EventQuery(kinds: [.splitBrainEnded]))
        XCTAssertEqual(ended.count, 1)
        guard let end = ended.first else { return }
        XCTAssertEqual(AlertRules.alerts(for: end).first?.action, .resolve)
        XCTAssertEqual(AlertRules.alerts(for: end).first?.key, AlertRules.alerts(for: first).first?.key)
    }
}
