import Coordination
import Foundation
import EventLog
import FailoverCore
import FailoverTesting
import Logging
import XCTest

@testable import Controller

/// The round scheduler, driven round by round on a manual clock: no sleeping in tests.
final class RoundSchedulerTests: XCTestCase {
    private func site(fall: Int = 3, rise: Int = 2) -> SiteConfig {
        SiteConfig(
            name: "east", interval: .seconds(1), timeout: .milliseconds(800), fall: fall, rise: rise,
            checks: [
                CheckConfig(name: "api", kind: .http(HTTPCheck(url: "https://127.0.0.1:8443/health"))),
                CheckConfig(name: "db", kind: .tcp(ListenAddress(host: "127.0.0.1", port: 5432))),
            ])
    }

    private final class Harness {
        let clock = ManualClock()
        let wall = ManualWallClock()
        let prober = ScriptedProber()
        let store: EventStore
        let board: StatusBoard
        let task: Task<Void, Never>
        private var rounds = 0

        init(site: SiteConfig, script: (ScriptedProber) -> Void = { _ in }) throws {
            script(prober)
            store = try EventStore.inMemory()
            let config = ControllerConfig(
                id: "c1", listen: ListenAddress(host: "127.0.0.1", port: 7400), stateDir: "/nonexistent", sites: [site])
            board = StatusBoard(
                config: config, startedAt: wall.now(), store: store, coordinator: LocalCoordinator(id: "c1"),
                wallClock: wall, logger: Logger(label: "test"))
            let scheduler = RoundScheduler(sites: [site], prober: prober, clock: clock, wallClock: wall, board: board)
            task = Task { await scheduler.run() }
        }

        /// Lets the next round run (the first one runs at once) and waits until the board
        /// has taken it in.
        func round(_ first: Bool = false) async {
            if !first {
                wall.advance(by: .seconds(1))
                clock.advance(by: .seconds(1))
            }
            rounds += 1
            await board.waitForRounds(rounds)
        }

        func transitions() throws -> [String] {
            try store.events(EventQuery(kinds: [.siteStateChanged])).map {
                "\($0.details["from"]!.stringValue!)->\($0.details["to"]!.stringValue!)"
            }
        }
    }

    func testHTTP503WhileTCPConnectsGoesDownAfterExactlyFallRoundsAndUpAfterRise() async throws {
        let h = try Harness(site: site()) {
            $0.script("api", [.ok, .ok, .unexpectedStatus(503), .unexpectedStatus(503), .unexpectedStatus(503), .ok])
        }
        await h.round(true)
        await h.round()
        XCTAssertEqual(try h.transitions(), ["unknown->up"])
        await h.round()
        await h.round()
        XCTAssertEqual(try h.transitions(), ["unknown->up", "up->suspect"], "two failed rounds: still suspect")
        await h.round()
        XCTAssertEqual(try h.transitions(), ["unknown->up", "up->suspect", "suspect->down"], "third failed round: down")
        let down = try h.store.events(EventQuery(kinds: [.siteStateChanged])).last!
        XCTAssertEqual(down.details["fails"]?.numberValue, 3)
        let results = down.details["results"]
        XCTAssertEqual(results, try JSONValue(encoding: h.prober.lastResults(at: down.at, site: site())))
        await h.round()
        XCTAssertEqual(try h.transitions().last, "down->recovering")
        await h.round()
        XCTAssertEqual(try h.transitions().last, "recovering->up", "rise 2: up after two good rounds")

        let quorum = try h.store.events(EventQuery(kinds: [.quorumVerdictChanged])).map { $0.details["to"]!.stringValue! }
        XCTAssertEqual(quorum, ["up", "suspect", "down", "up"])
        let report = await h.board.report()
        XCTAssertEqual(report.sites.map(\.state), [.up])
        XCTAssertEqual(report.level, .ok)
        h.task.cancel()
        await h.task.value
    }

    func testStatusReportShowsDownSiteAsCriticalWithLastResults() async throws {
        let h = try Harness(site: site(fall: 1, rise: 1)) { $0.set("db", .refused) }
        await h.round(true)
        let report = await h.board.report()
        XCTAssertEqual(report.sites.first?.state, .down)
        XCTAssertEqual(report.sites.first?.checks.map(\.diagnosis), [.ok, .refused])
        XCTAssertEqual(report.level, .critical)
        await h.board.flush()
        XCTAssertEqual(try h.store.siteStatuses()["east"]?.status.state, .down)
        h.task.cancel()
        await h.task.value
    }

    func testEachRoundProbesEveryCheckAtTheRoundTime() async throws {
        let h = try Harness(site: site())
        await h.round(true)
        await h.round()
        let calls = h.prober.calls
        XCTAssertEqual(calls.map(\.check).sorted(), ["api", "api", "db", "db"])
        XCTAssertEqual(Set(calls.map(\.at)).count, 2, "one timestamp per round")
        h.task.cancel()
        await h.task.value
    }

    func testManySitesShareOneSchedulerSpreadOverTheInterval() async throws {
        let clock = ManualClock()
        let wall = ManualWallClock()
        let prober = ScriptedProber()
        let sites = (0..<4).map { i in
            SiteConfig(name: "s\(i)", interval: .seconds(1), timeout: .milliseconds(500), checks: [
                CheckConfig(name: "db", kind: .tcp(ListenAddress(host: "127.0.0.1", port: 5432)))
            ])
        }
        let config = ControllerConfig(
            id: "c1", listen: ListenAddress(host: "127.0.0.1", port: 7400), stateDir: "/nonexistent", sites: sites)
        let board = StatusBoard(
            config: config, startedAt: wall.now(), store: try EventStore.inMemory(),
            coordinator: LocalCoordinator(id: "c1"), wallClock: wall, logger: Logger(label: "test"))
        let task = Task { await RoundScheduler(sites: sites, prober: prober, clock: clock, wallClock: wall, board: board).run() }
        await board.waitForRounds(1)
        XCTAssertEqual(prober.calls.count, 1, "only the first site is due at offset 0")
        clock.advance(by: .milliseconds(250))
        await board.waitForRounds(2)
        clock.advance(by: .milliseconds(500))
        await board.waitForRounds(4)
        XCTAssertEqual(prober.calls.count, 4, "one round per site within the first interval")
        clock.advance(by: .milliseconds(250))
        await board.waitForRounds(5)
        let rounds = await board.schedule.rounds
        XCTAssertEqual(rounds, 5)
        task.cancel()
        await task.value
    }

    func testMissedRoundsAreSkippedNotBurst() async throws {
        let h = try Harness(site: site())
        await h.round(true)
        h.wall.advance(by: .seconds(5))
        h.clock.advance(by: .milliseconds(5_500))
        await h.board.waitForRounds(2)
        await h.clock.waitForSleepers(1)
        XCTAssertEqual(h.prober.calls.count, 4, "one catch-up round after a stall, not five")
        let schedule = await h.board.schedule
        XCTAssertEqual(schedule.rounds, 2)
        XCTAssertEqual(schedule.maxLatenessMs, 4_500, "the catch-up round ran 4.5 s after the deadline it replaced")
        h.clock.advance(by: .milliseconds(500))
        await h.board.waitForRounds(3)
        XCTAssertEqual(h.prober.calls.count, 6, "then back on the 1 s grid")
        h.task.cancel()
        await h.task.value
    }
}

extension ScriptedProber {
    /// The results the scripted prober gave for the round at `at` (for comparing event details).
    func lastResults(at: Timestamp, site: SiteConfig) -> [ProbeResult] {
        site.checks.map { check in
            let diagnosis: Diagnosis = check.name == "api" ? .unexpectedStatus(503) : .ok
            return ProbeResult(
                check: check.name, kind: check.kind.label, at: at, diagnosis: diagnosis, timings: ProbeTimings(total: 1),
                status: diagnosis == .ok ? nil : 503, error: diagnosis == .ok ? nil : "scripted \(diagnosis.label)")
        }
    }
}

/// A coordinator whose first `failures` publishes throw, then behaves like `LocalCoordinator`.
private final class FlakyCoordinator: Coordinator, @unchecked Sendable {
    private let inner = LocalCoordinator(id: "c1")
    private let lock = NSLock()
    private var failures: Int
    private(set) var attempts = 0

    init(failures: Int) { self.failures = failures }

    func join() async throws { try await inner.join() }
    func publish(_ votes: [Vote]) async throws {
        let fail = lock.withLock {
            attempts += 1
            defer { failures -= 1 }
            return failures > 0
        }
        if fail { throw CancellationError() }
        try await inner.publish(votes)
    }
    func view() async throws -> CoordinationView { try await inner.view() }
    func campaign() async throws -> CoordinationView { try await inner.campaign() }
    func leave() async { await inner.leave() }
    func refresh() async -> CoordinationView { await inner.refresh() }
}

final class VotePublishingTests: XCTestCase {
    func testAVoteThatCouldNotBePublishedIsRetriedNextRound() async throws {
        let clock = ManualClock()
        let wall = ManualWallClock()
        let site = SiteConfig(name: "east", fall: 1, rise: 1, checks: [
            CheckConfig(name: "db", kind: .tcp(ListenAddress(host: "127.0.0.1", port: 5432)))
        ])
        let coordinator = FlakyCoordinator(failures: 1)
        let store = try EventStore.inMemory()
        let config = ControllerConfig(
            id: "c1", listen: ListenAddress(host: "127.0.0.1", port: 7400), stateDir: "/nonexistent", sites: [site])
        let board = StatusBoard(
            config: config, startedAt: wall.now(), store: store, coordinator: coordinator, wallClock: wall,
            logger: Logger(label: "test"))
        let task = Task {
            await RoundScheduler(sites: [site], prober: ScriptedProber(), clock: clock, wallClock: wall, board: board).run()
        }
        await board.waitForRounds(1)
        XCTAssertEqual(try store.events(EventQuery(kinds: [.quorumVerdictChanged])).count, 0, "the publish failed")
        clock.advance(by: .seconds(1))
        await board.waitForRounds(2)
        let quorum = try store.events(EventQuery(kinds: [.quorumVerdictChanged])).map { $0.details["to"]!.stringValue! }
        XCTAssertEqual(quorum, ["up"], "published on the next round without a new transition")
        XCTAssertEqual(coordinator.attempts, 2)
        clock.advance(by: .seconds(1))
        await board.waitForRounds(3)
        XCTAssertEqual(coordinator.attempts, 2, "no more publishes once it went through")
        task.cancel()
        await task.value
    }
}
