import FailoverTesting
import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Randomized faults against three real controllers on a real etcd in network namespaces
/// (see `ChaosCluster`), reproducible by seed: kill -9 and SIGSTOP of the leader, kill -9 of
/// a follower, kill of an etcd member, a controller cut from etcd, and the group's primary
/// failing for every controller. After each schedule everything is undone and five
/// invariants are checked: no overlapping actors, one plan per epoch, exactly one failover
/// per primary loss while quorate, every controller's status converges, every event is
/// exchanged once.
///
/// `CHAOS_SCHEDULES` schedules (default 3), seeds from `CHAOS_SEED` (default 1) on,
/// `CHAOS_LENGTH` `short` (default: 2–3 faults over 12–16 s) or `long` (`make chaos`: 3–6
/// faults over 20–40 s). Each schedule gets a fresh lab. A violation leaves its evidence
/// (every log) in `/tmp/failoverctl-chaos/seed-N`; so does every schedule with `CHAOS_KEEP=1`.
final class ChaosTests: XCTestCase {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    func testChaosSchedulesKeepEveryInvariant() throws {
        try XCTSkipUnless(getuid() == 0, "the chaos lab needs root (ip netns, tc, setns)")
        let count = UInt64(Self.environment["CHAOS_SCHEDULES"] ?? "") ?? 3
        let first = UInt64(Self.environment["CHAOS_SEED"] ?? "") ?? 1
        let length = ChaosSchedule.Length(rawValue: Self.environment["CHAOS_LENGTH"] ?? "") ?? .short
        var outcomes: [ChaosOutcome] = [], unfinished: [UInt64] = []
        for seed in first..<(first + count) {
            let schedule = ChaosSchedule.make(seed: seed, length: length)
            print(schedule.lines.joined(separator: "\n"))
            do {
                let outcome = try run(schedule)
                print(outcome.line)
                outcomes.append(outcome)
                for violation in outcome.violations { XCTFail("chaos seed \(seed): \(violation)") }
            } catch {
                unfinished.append(seed)
                XCTFail("chaos seed \(seed) did not finish: \(error)")
            }
        }
        let violations = outcomes.reduce(0) { $0 + $1.violations.count }
        print(
            "chaos: \(outcomes.count) schedules, \(outcomes.reduce(0) { $0 + $1.faults }) faults,"
                + " \(outcomes.reduce(0) { $0 + $1.failovers }) failovers,"
                + " \(outcomes.reduce(0) { $0 + $1.overlaps.count }) overlaps, \(violations) violations"
                + " (\(outcomes.reduce(0) { $0 + $1.sameTermReruns.count }) same-term re-runs)"
                + (unfinished.isEmpty
                    ? "" : ", \(unfinished.count) schedules that did not finish (seeds \(unfinished))"))
        XCTAssertEqual(outcomes.count, Int(count))
    }

    /// One schedule in a fresh lab: start, run, heal, check; evidence kept on a violation.
    private func run(_ schedule: ChaosSchedule) throws -> ChaosOutcome {
        let started = NetnsLab.nowMs()
        let cluster = try ChaosCluster()
        try cluster.start()
        let runner = ChaosRunner(cluster: cluster, schedule: schedule)
        let outcome: ChaosOutcome
        do {
            try runner.run()
            outcome = try runner.check(healed: try runner.healEverything(), startedMs: started)
        } catch {
            print(runner.records.map(\.line).joined(separator: "\n"))
            print("evidence: \(cluster.saveEvidence(seed: schedule.seed, notes: ["\(error)"]))")
            throw error
        }
        print(runner.records.map(\.line).joined(separator: "\n"))
        for rerun in outcome.sameTermReruns { print("  same-term re-run: \(rerun)") }
        for violation in outcome.violations { print("  VIOLATION: \(violation)") }
        if !outcome.violations.isEmpty || Self.environment["CHAOS_KEEP"] == "1" {
            print("evidence: \(cluster.saveEvidence(seed: schedule.seed, notes: outcome.violations))")
        }
        return outcome
    }

    // MARK: the harness itself

    /// A seed names one schedule; every schedule has a primary failure, stays within its
    /// length's fault count, never runs two etcd kills or two isolations at once, and runs
    /// controller faults one at a time unless it allows a quorum loss.
    func testChaosScheduleIsOneListPerSeedAndKeepsItsRules() {
        XCTAssertEqual(
            ChaosSchedule.make(seed: 42, length: .long).faults, ChaosSchedule.make(seed: 42, length: .long).faults)
        XCTAssertNotEqual(
            ChaosSchedule.make(seed: 42, length: .long).faults, ChaosSchedule.make(seed: 43, length: .long).faults)
        var kinds = Set<ChaosFaultKind>()
        for seed in UInt64(1)...500 {
            for length in [ChaosSchedule.Length.short, .long] {
                let s = ChaosSchedule.make(seed: seed, length: length)
                XCTAssertTrue((length == .short ? 2...3 : 3...6).contains(s.faults.count), "\(s.lines)")
                XCTAssertTrue(s.faults.contains { $0.kind == .primaryFailure }, "\(s.lines)")
                XCTAssertEqual(s.faults, s.faults.sorted { $0.atMs < $1.atMs })
                for (i, a) in s.faults.enumerated() {
                    kinds.insert(a.kind)
                    for b in s.faults[(i + 1)...] {
                        XCTAssertFalse(a.conflicts(with: b, allowQuorumLoss: s.allowsQuorumLoss), "\(s.lines)")
                    }
                }
            }
        }
        XCTAssertEqual(kinds, Set(ChaosFaultKind.allCases))
        XCTAssertTrue(ChaosSchedule.make(seed: 7, length: .short).lines[0].contains("CHAOS_SEED=7"))
    }

    /// Overlapping runs of different tokens, two routes in one epoch, a token going back in
    /// the plan, an older token after a newer one and a resume past an unfinished step are
    /// each caught; a clean hand-over (the next leader re-runs the step, then goes on) is
    /// not, and a leader re-running its ended step in its own term is counted apart.
    func testChaosInvariantsCatchOverlapsAndPlansOutOfOrder() {
        func start(_ ms: Int64, _ step: String, _ token: String, _ c: String, _ pid: Int32, to: String = "west")
            -> ChaosPlanStart
        {
            let site = step == "drain" || step == "fence" ? "east" : to
            return ChaosPlanStart("\(ms) START \(step) \(site) 1 \(token) \(c) \(pid) east \(to) web-1"[...])!
        }
        let incident = ChaosIncidentFacts(
            id: "web-1", kind: "failover", from: "east", to: "west", epoch: 1, result: "succeeded", decidedMs: 0)
        func check(_ starts: [ChaosPlanStart], _ ends: ChaosInvariants.StepEnds) -> ChaosInvariants.PlanFindings {
            ChaosInvariants.plans(starts, ends: ends, incidents: [incident])
        }
        let clean = [
            start(100, "drain", "1.5", "c1", 1), start(5_000, "drain", "1.9", "c2", 2),
            start(6_600, "fence", "1.9", "c2", 3),
            start(7_200, "promote", "1.9", "c2", 4), start(7_800, "dns", "1.9", "c2", 5),
        ]
        let ends: ChaosInvariants.StepEnds = [
            1: (3_000, "gone"), 2: (6_500, "END"), 3: (7_100, "END"), 4: (7_700, "END"), 5: (7_900, "END"),
        ]
        XCTAssertEqual(check(clean, ends).violations, [])
        XCTAssertEqual(check(clean, ends).sameTermReruns, [])
        var twoRoutes = clean
        twoRoutes[3] = start(7_200, "promote", "1.9", "c2", 4, to: "eu")
        XCTAssertTrue(check(twoRoutes, ends).violations.contains { $0.contains("2 plans") })
        var again = clean
        again[1] = start(5_000, "drain", "1.5", "c1", 2)
        XCTAssertEqual(check(again, ends).violations, [])
        XCTAssertEqual(check(again, ends).sameTermReruns.count, 1)
        var unfinished = ends
        unfinished[1] = (5_500, "gone")
        XCTAssertEqual(check(again, unfinished).violations.count, 1, "re-ran before its run ended")
        var back = clean
        back[3] = start(7_200, "drain", "1.9", "c2", 4)
        XCTAssertFalse(check(back, ends).violations.isEmpty)
        var older = clean
        older[2] = start(6_600, "fence", "1.4", "c3", 3)
        XCTAssertFalse(check(older, ends).violations.isEmpty)
        let skipped = [start(100, "drain", "1.5", "c1", 1), start(5_000, "promote", "1.9", "c2", 2)]
        XCTAssertTrue(
            ChaosInvariants.plans(skipped, ends: [:], incidents: []).violations.contains {
                $0.contains("resumed at promote")
            })
        XCTAssertTrue(check(Array(clean.prefix(3)), ends).violations.contains { $0.contains("without promote, dns") })

        let a = StepInterval(
            controller: "c1", step: "drain", epoch: 1, token: "1.5", start: 0, end: 1_000, ending: "gone")
        var b = StepInterval(
            controller: "c2", step: "drain", epoch: 1, token: "1.9", start: 900, end: 2_000, ending: "END")
        XCTAssertEqual(ChaosInvariants.overlaps([a, b], now: 5_000).count, 1)
        b.start = 1_000
        XCTAssertEqual(ChaosInvariants.overlaps([a, b], now: 5_000), [])
    }

    /// A quorate loss needs exactly one failover, a lost one none, a partial one at most
    /// one; a failover without a loss, a drill and a stuck incident are violations; the
    /// quorum windows count two controllers out at once.
    func testChaosInvariantsCountFailoversAgainstLossesAndTheQuorum() {
        func loss(_ q: ChaosPrimaryLoss.Quorum, _ site: String = "east", at: Int64 = 1_000) -> ChaosPrimaryLoss {
            ChaosPrimaryLoss(site: site, downMs: at, upMs: at + 7_000, quorum: q)
        }
        func failover(
            _ epoch: Int, from: String = "east", at: Int64, kind: String = "failover", result: String = "succeeded"
        )
            -> ChaosIncidentFacts
        {
            ChaosIncidentFacts(
                id: "web-\(epoch)", kind: kind, from: from, to: "west", epoch: epoch, result: result, decidedMs: at)
        }
        XCTAssertEqual(ChaosInvariants.failovers([loss(.quorate)], [failover(1, at: 2_000)]), [])
        XCTAssertEqual(ChaosInvariants.failovers([loss(.quorate)], []).count, 1)
        XCTAssertEqual(ChaosInvariants.failovers([loss(.lost)], [failover(1, at: 2_000)]).count, 1)
        XCTAssertEqual(ChaosInvariants.failovers([loss(.partial)], []), [])
        XCTAssertEqual(
            ChaosInvariants.failovers([loss(.quorate)], [failover(1, at: 2_000), failover(2, at: 3_000)]).count, 1)
        XCTAssertEqual(ChaosInvariants.failovers([], [failover(1, at: 2_000)]).count, 1)
        XCTAssertEqual(ChaosInvariants.failovers([loss(.partial)], [failover(1, at: 2_000, result: "stuck")]).count, 1)
        XCTAssertEqual(ChaosInvariants.failovers([loss(.partial)], [failover(1, at: 2_000, kind: "drill")]).count, 1)
        XCTAssertEqual(ChaosInvariants.failovers([loss(.quorate, "west")], [failover(1, at: 2_000)]).count, 2)

        XCTAssertEqual(ChaosInvariants.quorum(down: 0, up: 10, surely: [], possibly: [(0, 20)]), .quorate)
        XCTAssertEqual(
            ChaosInvariants.quorum(down: 0, up: 10, surely: [(0, 10), (0, 12)], possibly: [(0, 20), (0, 20)]), .lost)
        XCTAssertEqual(
            ChaosInvariants.quorum(down: 0, up: 10, surely: [(5, 10), (0, 12)], possibly: [(0, 20), (0, 20)]), .partial)
        XCTAssertEqual(ChaosRunner.merged([(0, 5), (3, 8), (10, 12)]).map { [$0.0, $0.1] }, [[0, 8], [10, 12]])
    }

    /// An event missing from another log, or held twice, is caught; views that differ, or
    /// a group still running, do not converge.
    func testChaosInvariantsCatchEventsNotExchangedOnceAndViewsThatDiffer() {
        func event(_ c: String, _ at: Int64) -> ChaosEventKey {
            ChaosEventKey(controller: c, at: at, kind: "leader_changed", details: "{}")
        }
        let c1 = [event("c1", 1), event("c1", 2)], c2 = [event("c2", 5)]
        XCTAssertEqual(ChaosInvariants.exchange(["c1": c1 + c2, "c2": c2 + c1]), [])
        XCTAssertEqual(ChaosInvariants.exchange(["c1": c1 + c2, "c2": c2 + [event("c1", 1)]]).count, 1)
        XCTAssertEqual(ChaosInvariants.exchange(["c1": c1 + c2 + c2, "c2": c2 + c1]).count, 1)

        let steady = ChaosGroupView(
            primary: "west", epoch: 1, phase: "steady", lastIncident: "web-1", lastResult: "succeeded")
        XCTAssertNil(ChaosInvariants.convergence(["a": steady, "b": steady]))
        var behind = steady
        behind.epoch = 0
        XCTAssertNotNil(ChaosInvariants.convergence(["a": steady, "b": behind]))
        var running = steady
        (running.phase, running.lastResult) = ("running", "running")
        XCTAssertNotNil(ChaosInvariants.convergence(["a": running, "b": running]))
        XCTAssertNotNil(ChaosInvariants.convergence(["a": steady, "b": nil]))
    }
}
