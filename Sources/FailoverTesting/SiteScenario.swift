import FailoverCore
import Foundation
import Yams

/// A golden scenario for the site FSM: a folder holding `scenario.yaml` (a site and a
/// probe timeline) and `expected.txt` (the transitions, one per line).
///
/// Timeline symbols, one per round and check, separated by spaces:
/// `+` ok, `-` timeout, `x` refused, `5` HTTP 503, `t` TLS failure, `c` certificate
/// expiring, `b` body mismatch, `?` probe unavailable (inconclusive).
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
        public var fall: Int
        public var rise: Int
        public var require: Requirement?
    }

    /// Loads `scenario.yaml` from `folder`.
    public static func load(_ folder: URL) throws -> SiteScenario {
        let text = try String(contentsOf: folder.appendingPathComponent("scenario.yaml"), encoding: .utf8)
        return try YAMLDecoder().decode(SiteScenario.self, from: text)
    }

    /// Replays the timeline on a fresh `SiteFSM` and renders every transition as a line.
    public func replay() throws -> String {
        let step = Duration(text: interval ?? "1s") ?? .seconds(1)
        let checks = timeline.keys.sorted()
        let columns = try checks.map { name in try timeline[name]!.split(separator: " ").map { try Self.diagnosis($0) } }
        let rounds = columns.map(\.count).max() ?? 0
        let origin = Timestamp(milliseconds: 0)
        var fsm = SiteFSM(thresholds: Thresholds(fall: site.fall, rise: site.rise))
        var lines: [String] = []
        for index in 0..<rounds {
            let at = origin.advanced(by: step * index)
            let results = zip(checks, columns).compactMap { name, column -> ProbeResult? in
                guard index < column.count else { return nil }
                return ProbeResult(check: name, kind: "test", at: at, diagnosis: column[index], timings: ProbeTimings(total: 0))
            }
            let outcome = ProbeRound(at: at, results: results).outcome(require: site.require ?? .all)
            for case .transition(let t) in fsm.observe(outcome, at: at) {
                lines.append(Self.render(t, round: index + 1, origin: origin))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func render(_ t: SiteTransition, round: Int, origin: Timestamp) -> String {
        func rel(_ ts: Timestamp?) -> String { ts.map { $0.since(origin).text == "0ms" ? "0s" : $0.since(origin).text } ?? "-" }
        return "round \(round) t=\(rel(t.at)): \(t.from.rawValue) -> \(t.to.rawValue)"
            + " (verdict \(t.from.verdict.rawValue) -> \(t.to.verdict.rawValue), last_ok=\(rel(t.lastOK)), first_fail=\(rel(t.firstFail)))"
    }

    struct BadSymbol: Error, CustomStringConvertible {
        let symbol: Substring
        var description: String { "unknown timeline symbol \"\(symbol)\"" }
    }

    static func diagnosis(_ symbol: Substring) throws -> Diagnosis {
        switch symbol {
        case "+": .ok
        case "-": .timeout
        case "x": .refused
        case "5": .unexpectedStatus(503)
        case "t": .tlsFailure
        case "c": .certificateExpiring(daysLeft: 3)
        case "b": .bodyMismatch
        case "?": .probeUnavailable
        default: throw BadSymbol(symbol: symbol)
        }
    }
}
