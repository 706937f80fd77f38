import FailoverCore
import Testing

/// A small deterministic generator (SplitMix64), so a failing sequence can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The site FSM against invariants on every short sequence and on long random ones.
@Suite struct SiteFSMPropertyTests {
    /// What the machine's history says, tracked independently of it.
    struct Tracker {
        var passRun = 0
        var failRun = 0
        var lastPass: Timestamp?
        var failRunStart: Timestamp?
        var everLeftUnknown = false
    }

    /// Feeds `sequence` and checks every invariant after every round; returns the issues found.
    static func check(_ sequence: [ProbeOutcome], fall: Int, rise: Int) -> [String] {
        var fsm = SiteFSM(thresholds: Thresholds(fall: fall, rise: rise))
        var track = Tracker()
        var issues: [String] = []
        func expect(_ ok: Bool, _ what: String, _ round: Int) {
            if !ok { issues.append("fall \(fall) rise \(rise) round \(round): \(what)") }
        }
        for (round, outcome) in sequence.enumerated() {
            let now = Timestamp(milliseconds: Int64(round) * 1_000)
            let before = fsm
            let effects = fsm.observe(outcome, at: now)
            switch outcome {
            case .pass:
                track.passRun += 1
                track.failRun = 0
                track.lastPass = now
            case .fail:
                if track.failRun == 0 { track.failRunStart = now }
                track.failRun += 1
                track.passRun = 0
            case .inconclusive:
                expect(fsm == before && effects.isEmpty, "an inconclusive round changes nothing", round)
                continue
            }
            for issue in stateIssues(fsm, track, fall: fall, rise: rise) { expect(false, issue, round) }
            if fsm.state != .unknown { track.everLeftUnknown = true }
            expect(effects.count == (before.state == fsm.state ? 0 : 1), "one effect per state change", round)
            for case .transition(let t) in effects {
                issues += transitionIssues(t, before: before.state, fsm: fsm, now: now, fall: fall, rise: rise)
                    .map { "fall \(fall) rise \(rise) round \(round): \($0)" }
            }
        }
        return issues
    }

    /// What must hold of the machine after a conclusive round, given the tracked history.
    static func stateIssues(_ fsm: SiteFSM, _ track: Tracker, fall: Int, rise: Int) -> [String] {
        var issues: [String] = []
        func expect(_ ok: Bool, _ what: String) { if !ok { issues.append("\(fsm.state): \(what)") } }
        expect(fsm.passes == track.passRun && fsm.fails == track.failRun, "counters are the trailing runs")
        expect(fsm.lastOK == track.lastPass, "last_ok is the last passing round")
        expect(track.failRun < fall || fsm.state == .down, "`fall` fails in a row ⇒ down")
        expect(track.passRun < rise || fsm.state == .up, "`rise` passes in a row ⇒ up")
        switch fsm.state {
        case .unknown: expect(!track.everLeftUnknown, "unknown only before the first verdict")
        case .up: expect(track.failRun == 0, "up ⇒ the last round passed")
        case .suspect: expect((1..<fall).contains(track.failRun), "suspect ⇒ 1 ≤ fails < fall")
        case .down: expect(track.passRun == 0, "down ⇒ the last round failed")
        case .recovering: expect((1..<rise).contains(track.passRun), "recovering ⇒ 1 ≤ passes < rise")
        }
        if track.failRun > 0 && fsm.state != .up {
            expect(fsm.firstFail == track.failRunStart, "first_fail starts the current failing streak")
        }
        return issues
    }

    /// The rules every single transition obeys.
    static func transitionIssues(
        _ t: SiteTransition, before: SiteFSM.State, fsm: SiteFSM, now: Timestamp, fall: Int, rise: Int
    ) -> [String] {
        var issues: [String] = []
        func expect(_ ok: Bool, _ what: String) { if !ok { issues.append("\(t.from) ➜ \(t.to): \(what)") } }
        expect(t.from == before && t.to == fsm.state && t.at == now && fsm.since == now, "chains states and times")
        expect(t.passes == fsm.passes && t.fails == fsm.fails && t.lastOK == fsm.lastOK, "carries the counters")
        switch (t.from, t.to) {
        case (.unknown, .down), (.up, .down), (.suspect, .down): expect(t.fails == fall, "down after exactly `fall` fails")
        case (.recovering, .down): expect(t.fails == 1, "one fail ends recovering")
        case (.unknown, .up), (.down, .up), (.recovering, .up): expect(t.passes == rise, "up after exactly `rise` passes")
        case (.suspect, .up): expect(t.passes == 1, "one pass ends suspect")
        case (.up, .suspect): expect(t.fails == 1 && fall > 1, "suspect on the first fail")
        case (.down, .recovering): expect(t.passes == 1 && rise > 1, "recovering on the first pass")
        default: expect(false, "is not in the transition table")
        }
        if t.to == .up { expect(t.firstFail == nil && fsm.firstFail == nil, "up clears first_fail") }
        if t.to == .down, let lastOK = t.lastOK, let firstFail = t.firstFail {
            expect(lastOK < firstFail && firstFail <= t.at, "last_ok < first_fail ≤ detection")
        }
        return issues
    }

    @Test(arguments: 1...3)
    func everySequenceUpToSevenRounds(fall: Int) {
        let symbols: [ProbeOutcome] = [.pass, .fail, .inconclusive]
        var issues: [String] = []
        for rise in 1...3 {
            for length in 1...7 {
                let total = Self.pow3(length)
                for code in 0..<total {
                    var c = code
                    let sequence = (0..<length).map { _ in defer { c /= 3 }; return symbols[c % 3] }
                    issues += Self.check(sequence, fall: fall, rise: rise)
                }
            }
        }
        #expect(issues.isEmpty, "\(issues.prefix(5).joined(separator: "\n"))")
    }

    @Test(arguments: [1, 2, 3, 5, 10])
    func longRandomSequences(fall: Int) {
        var rng = SplitMix64(state: UInt64(fall) * 7_919)
        var issues: [String] = []
        for rise in [1, 2, 3, 5, 10] {
            for _ in 0..<50 {
                // Runs of one outcome make thresholds reachable; some rounds are inconclusive.
                var sequence: [ProbeOutcome] = []
                while sequence.count < 300 {
                    let outcome: ProbeOutcome = [.pass, .fail, .fail, .pass, .inconclusive].randomElement(using: &rng)!
                    sequence += Array(repeating: outcome, count: Int.random(in: 1...12, using: &rng))
                }
                issues += Self.check(sequence, fall: fall, rise: rise)
            }
        }
        #expect(issues.isEmpty, "\(issues.prefix(5).joined(separator: "\n"))")
    }

    static func pow3(_ n: Int) -> Int { (0..<n).reduce(1) { acc, _ in acc * 3 } }
}

/// How a round's probe outcomes combine under `require`.
@Suite struct ProbeRoundTests {
    static func round(_ symbols: String) -> ProbeRound {
        let at = Timestamp(milliseconds: 0)
        let results = outcomes(symbols).enumerated().map { i, o in
            let diagnosis: Diagnosis = o == .pass ? .ok : o == .fail ? .timeout : .probeUnavailable
            return ProbeResult(check: "c\(i)", kind: "tcp", at: at, diagnosis: diagnosis, timings: ProbeTimings(total: 1))
        }
        return ProbeRound(at: at, results: results)
    }

    @Test(arguments: [
        ("+", ProbeOutcome.pass, ProbeOutcome.pass), ("-", .fail, .fail), ("?", .inconclusive, .inconclusive),
        ("++", .pass, .pass), ("+-", .fail, .pass), ("--", .fail, .fail),
        ("+?", .inconclusive, .pass), ("-?", .fail, .inconclusive), ("??", .inconclusive, .inconclusive),
        ("+-?", .fail, .pass), ("", .inconclusive, .inconclusive),
    ])
    func outcomeUnderAllAndAny(symbols: String, all: ProbeOutcome, any: ProbeOutcome) {
        #expect(Self.round(symbols).outcome(require: .all) == all)
        #expect(Self.round(symbols).outcome(require: .any) == any)
    }

    @Test func everyDiagnosisHasAnOutcomeAndAStableLabel() {
        let all: [Diagnosis] = [
            .ok, .timeout, .refused, .dnsFailure, .unreachable, .tlsFailure, .certificateExpiring(daysLeft: 3),
            .unexpectedStatus(503), .bodyMismatch, .protocolError, .probeUnavailable,
        ]
        #expect(all.filter { $0.outcome == .pass } == [.ok])
        #expect(all.filter { $0.outcome == .inconclusive } == [.probeUnavailable])
        #expect(Set(all.map(\.label)).count == all.count)
        for d in all {
            #expect(Diagnosis(label: d.label, status: 503, certDaysLeft: 3) == d, "\(d.label) round-trips")
        }
    }
}
