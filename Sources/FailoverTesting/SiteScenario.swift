import FailoverCore
import Foundation
import Yams

/// A golden scenario for the site FSM: a folder holding `scenario.yaml` (a site and a
/// probe timeline) and `expected.txt` (the transitions, one per line).
///
/// Timeline symbols, one per round and check, separated by spaces:
/// `+` ok, `-` timeout, `x` refused, `d` DNS failure, `u` unreachable, `5` HTTP 503,
/// `t` TLS failure, `c` certificate expiring, `b` body mismatch, `p` protocol error,
/// `?` probe unavailable (inconclusive). Every check's timeline has the same length.
///
/// Each transition renders as one line: the round (from 1), its time from the start,
/// the states and verdicts, `last_ok`/`first_fail` relative to the start, and the
/// checks of that round that did not pass (`all ok` when every check passed):
/// `round 5 t=4s: suspect -> down (verdict suspect -> down, last_ok=1s, first_fail=2s) api=unexpected_status(503)`
public struct SiteScenario: Decodable, Sendable {
    /// What the scenario shows.
    public var description: String
    /// The site's debounce settings.
    public var site: Settings
    /// Time between rounds (default `1s`).
    public var interval: String?
    /// Check name → symbols, one per round.
    public var timeline: [String: String]

    /// The site settings a scenario varies.
    public struct Settings: Decodable, Sendable {
        /// Consecutive failed rounds before down.
        public var fall: Int
        /// Consecutive good rounds before up.
        public var rise: Int
        /// `all` (default) or `any`.
        public var require: Requirement?
    }

    /// Why a scenario cannot be replayed.
    public struct Invalid: Error, CustomStringConvertible {
        /// What is wrong with it.
        public var description: String
    }

    /// Loads `scenario.yaml` from `folder`.
    public static func load(_ folder: URL) throws -> SiteScenario {
        let text = try String(contentsOf: folder.appendingPathComponent("scenario.yaml"), encoding: .utf8)
        return try YAMLDecoder().decode(SiteScenario.self, from: text)
    }

    /// Replays the timeline on a fresh `SiteFSM` and renders every transition as a line.
    public func replay() throws -> String {
        guard let step = Duration(text: interval ?? "1s"), step > .zero else {
            throw Invalid(description: "interval \"\(interval ?? "")\" is not a duration")
        }
        let checks = timeline.keys.sorted()
        let columns = try checks.map { name in try timeline[name]!.split(separator: " ").map { try Self.diagnosis($0) } }
        let rounds = columns.map(\.count).max() ?? 0
        guard columns.allSatisfy({ $0.count == rounds }) else {
            throw Invalid(description: "timelines differ in length: \(zip(checks, columns.map(\.count)).map { "\($0)=\($1)" })")
        }
        let origin = Timestamp(milliseconds: 0)
        var fsm = SiteFSM(thresholds: Thresholds(fall: site.fall, rise: site.rise))
        var lines: [String] = []
        for index in 0..<rounds {
            let at = origin.advanced(by: step * index)
            let results = zip(checks, columns).map { name, column in
                ProbeResult(check: name, kind: "test", at: at, diagnosis: column[index], timings: ProbeTimings(total: 0))
            }
            let round = ProbeRound(at: at, results: results)
            for case .transition(let t) in fsm.observe(round.outcome(require: site.require ?? .all), at: at) {
                lines.append(Self.render(t, round: index + 1, origin: origin) + " " + Self.cause(round))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func render(_ t: SiteTransition, round: Int, origin: Timestamp) -> String {
        func rel(_ ts: Timestamp?) -> String { ts.map { $0.since(origin).text == "0ms" ? "0s" : $0.since(origin).text } ?? "-" }
        return "round \(round) t=\(rel(t.at)): \(t.from.rawValue) -> \(t.to.rawValue)"
            + " (verdict \(t.from.verdict.rawValue) -> \(t.to.verdict.rawValue), last_ok=\(rel(t.lastOK)), first_fail=\(rel(t.firstFail)))"
    }

    /// The round's checks that did not pass, as `name=diagnosis`, or `all ok`.
    static func cause(_ round: ProbeRound) -> String {
        let bad = round.results.filter { $0.diagnosis != .ok }.map { result in
            switch result.diagnosis {
            case .unexpectedStatus(let code): "\(result.check)=unexpected_status(\(code))"
            case .certificateExpiring(let days): "\(result.check)=certificate_expiring(\(days)d)"
            default: "\(result.check)=\(result.diagnosis.label)"
            }
        }
        return bad.isEmpty ? "all ok" : bad.joined(separator: " ")
    }

    static func diagnosis(_ symbol: Substring) throws -> Diagnosis {
        switch symbol {
        case "+": .ok
        case "-": .timeout
        case "x": .refused
        case "d": .dnsFailure
        case "u": .unreachable
        case "5": .unexpectedStatus(503)
        case "t": .tlsFailure
        case "c": .certificateExpiring(daysLeft: 3)
        case "b": .bodyMismatch
        case "p": .protocolError
        case "?": .probeUnavailable
        default: throw Invalid(description: "unknown timeline symbol \"\(symbol)\"")
        }
    }
}
