import FailoverCore
import Testing

/// Outcome symbols used by the FSM tests: `+` pass, `-` fail, `?` inconclusive.
func outcomes(_ text: String) -> [ProbeOutcome] {
    text.map { $0 == "+" ? .pass : $0 == "-" ? .fail : .inconclusive }
}

/// A machine fed `prefix`, one round per second from t=0.
func machine(fall: Int, rise: Int, after prefix: String) -> SiteFSM {
    var fsm = SiteFSM(thresholds: Thresholds(fall: fall, rise: rise))
    for (i, o) in outcomes(prefix).enumerated() { _ = fsm.observe(o, at: Timestamp(milliseconds: Int64(i) * 1_000)) }
    return fsm
}

/// The site FSM, one input at a time: every state × outcome with fall and rise of 1, 2, 3.
@Suite struct SiteFSMTableTests {
    /// One row of the transition table: from the state reached by `prefix`, `input` leads to `next`.
    struct Row: CustomTestStringConvertible, Sendable {
        var fall: Int
        var rise: Int
        var prefix: String
        var input: Character
        var next: SiteFSM.State
        var testDescription: String { "fall \(fall) rise \(rise): \(prefix.isEmpty ? "start" : prefix) then \(input) ➜ \(next)" }
    }

    /// The table, written out from the rules in docs/fsm.md, for fall and rise of 1, 2, 3.
    static var rows: [Row] {
        (1...3).flatMap { fall in (1...3).flatMap { rise in rows(fall: fall, rise: rise) } }
    }

    static func rows(fall: Int, rise: Int) -> [Row] {
        var rows: [Row] = []
        func row(_ prefix: String, _ input: Character, _ next: SiteFSM.State) {
            rows.append(Row(fall: fall, rise: rise, prefix: prefix, input: input, next: next))
        }
        let toUp = String(repeating: "+", count: rise)
        let toDown = String(repeating: "-", count: fall)
        // unknown (fresh): `rise` passes ➜ up, `fall` fails ➜ down, otherwise stay
        row("", "+", rise == 1 ? .up : .unknown)
        row("", "-", fall == 1 ? .down : .unknown)
        row("", "?", .unknown)
        // unknown, one short of a threshold; a pass breaks a failing streak
        if rise > 1 { row(String(toUp.dropLast()), "+", .up) }
        if fall > 1 { row(String(toDown.dropLast()), "-", .down) }
        if fall > 1 { row(String(toDown.dropLast()), "+", rise == 1 ? .up : .unknown) }
        // up
        row(toUp, "+", .up)
        row(toUp, "-", fall == 1 ? .down : .suspect)
        row(toUp, "?", .up)
        if fall > 1 {
            // suspect: a pass ends the suspicion; `fall` fails in a row ➜ down
            row(toUp + "-", "+", .up)
            row(toUp + "-", "-", fall == 2 ? .down : .suspect)
            row(toUp + "-", "?", .suspect)
            row(toUp + String(toDown.dropLast()), "-", .down)
        }
        // down
        row(toDown, "-", .down)
        row(toDown, "+", rise == 1 ? .up : .recovering)
        row(toDown, "?", .down)
        if rise > 1 {
            // recovering: `rise` passes in a row ➜ up; one fail ➜ down
            row(toDown + "+", "+", rise == 2 ? .up : .recovering)
            row(toDown + "+", "-", .down)
            row(toDown + "+", "?", .recovering)
            row(toDown + String(toUp.dropLast()), "+", .up)
            row(toDown + String(toUp.dropLast()), "-", .down)
        }
        return rows
    }

    @Test(arguments: rows)
    func oneInput(_ row: Row) {
        var fsm = machine(fall: row.fall, rise: row.rise, after: row.prefix)
        let before = fsm.state
        let now = Timestamp(milliseconds: 100_000)
        let effects = fsm.observe(outcomes(String(row.input))[0], at: now)
        #expect(fsm.state == row.next)
        if before == row.next {
            #expect(effects.isEmpty)
        } else {
            guard case .transition(let t)? = effects.first, effects.count == 1 else {
                Issue.record("expected one transition, got \(effects)")
                return
            }
            #expect(t.from == before && t.to == row.next && t.at == now)
            #expect(fsm.since == now)
        }
    }

    @Test func everyStateAndOutcomeIsCovered() {
        var seen = Set<String>()
        for row in Self.rows {
            let state = machine(fall: row.fall, rise: row.rise, after: row.prefix).state
            seen.insert("\(state.rawValue)\(row.input)")
        }
        for state in SiteFSM.State.allCases {
            for input in "+-?" { #expect(seen.contains("\(state.rawValue)\(input)"), "\(state) × \(input)") }
        }
    }

    @Test func thresholdsBelowOneAreRaisedToOne() {
        #expect(Thresholds(fall: 0, rise: -3) == Thresholds(fall: 1, rise: 1))
    }

    @Test func verdictOfEachState() {
        let verdicts = SiteFSM.State.allCases.map { "\($0.rawValue)=\($0.verdict.rawValue)" }
        #expect(verdicts == ["unknown=unknown", "up=up", "suspect=suspect", "down=down", "recovering=down"])
    }

    @Test func inconclusiveFirstRoundLeavesEverythingUnset() {
        var fsm = SiteFSM(thresholds: Thresholds(fall: 3, rise: 2))
        let fresh = fsm
        #expect(fsm.observe(.inconclusive, at: Timestamp(milliseconds: 5)).isEmpty)
        #expect(fsm == fresh && fsm.since == nil)
        _ = fsm.observe(.fail, at: Timestamp(milliseconds: 7))
        #expect(fsm.since == Timestamp(milliseconds: 7), "since is the first conclusive round while unknown")
    }

    @Test func lastOKAndFirstFailBookkeeping() {
        // fall 3, rise 2: up at t1, fails from t2 (t4 inconclusive), down at t5, pass t6, fail t7, up at t9.
        var fsm = SiteFSM(thresholds: Thresholds(fall: 3, rise: 2))
        var log: [SiteTransition] = []
        for (i, o) in outcomes("++--?-+-++").enumerated() {
            for case .transition(let t) in fsm.observe(o, at: Timestamp(milliseconds: Int64(i) * 1_000)) { log.append(t) }
        }
        func ms(_ s: Int64?) -> Timestamp? { s.map { Timestamp(milliseconds: $0 * 1_000) } }
        let summary = log.map { "\($0.from)>\($0.to)" }
        #expect(summary == ["unknown>up", "up>suspect", "suspect>down", "down>recovering", "recovering>down", "down>recovering", "recovering>up"])
        #expect(log[1].lastOK == ms(1) && log[1].firstFail == ms(2) && log[1].fails == 1)
        #expect(log[2].at == ms(5) && log[2].lastOK == ms(1) && log[2].firstFail == ms(2) && log[2].fails == 3)
        #expect(log[3].at == ms(6) && log[3].lastOK == ms(6) && log[3].firstFail == ms(2), "recovering keeps the outage's first fail")
        #expect(log[4].at == ms(7) && log[4].lastOK == ms(6) && log[4].firstFail == ms(7), "a new failing streak starts after the pass")
        #expect(log[6].at == ms(9) && log[6].firstFail == nil && log[6].lastOK == ms(9) && log[6].passes == 2)
        #expect(fsm.firstFail == nil && fsm.lastOK == ms(9) && fsm.since == ms(9))
    }
}
