import Foundation

/// A primary failure as it ran, and whether a quorum of controllers existed meanwhile.
struct ChaosPrimaryLoss: Equatable {
    enum Quorum: String {
        /// At most one controller out at any time of the loss: exactly one failover.
        case quorate
        /// Two controllers surely out for the whole loss: no failover.
        case lost
        /// In between (quorum came or went during the loss): at most one failover.
        case partial
    }

    var site: String
    var downMs: Int64
    var upMs: Int64
    var quorum: Quorum
}

/// What the invariants need of an incident (`failoverctl report --json`).
struct ChaosIncidentFacts: Equatable {
    var id: String
    var kind: String
    var from: String
    var to: String
    var epoch: Int
    var result: String
    var decidedMs: Int64
}

/// A group as one controller's API shows it (`/status` or `/groups/web`).
struct ChaosGroupView: Equatable, CustomStringConvertible {
    var primary: String
    var epoch: Int
    var phase: String
    var lastIncident: String
    var lastResult: String

    var description: String { "\(primary) epoch \(epoch) \(phase), last \(lastIncident) \(lastResult)" }
}

/// One event, as every controller's log should hold it (its local id aside).
struct ChaosEventKey: Hashable, CustomStringConvertible {
    var controller: String
    var at: Int64
    var kind: String
    var group: String?
    var site: String?
    var epoch: Int?
    /// The details as JSON text with sorted keys.
    var details: String

    var description: String { "\(controller) \(at) \(kind) \(site ?? group ?? "-")" }
}

/// The invariants of a chaos schedule, on plain data: each returns its violations as
/// readable sentences (empty: it holds).
enum ChaosInvariants {
    /// The plan's exec steps, in order (`verify` runs no command).
    static let plan = ["drain", "fence", "promote", "dns"]

    // MARK: 1. no overlapping actors

    /// Every pair of step intervals of different (controller, token) that ran at once.
    static func overlaps(_ intervals: [StepInterval], now: Int64) -> [String] {
        var found: [String] = []
        for (i, a) in intervals.enumerated() {
            for b in intervals[(i + 1)...] where (a.controller, a.token) != (b.controller, b.token) {
                let ms = a.overlap(with: b, now: now)
                if ms > 0 { found.append("overlap \(ms) ms: \(describe(a)) and \(describe(b))") }
            }
        }
        return found
    }

    static func describe(_ i: StepInterval) -> String {
        "\(i.step) epoch \(i.epoch) token \(i.token) by \(i.controller) \(i.start)–\(i.end.map(String.init) ?? "open") (\(i.ending))"
    }

    // MARK: 2. one plan per epoch

    /// How each step process ended, by pid: its END or KILLED line, else when it was seen gone.
    typealias StepEnds = [Int32: (ms: Int64, event: String)]

    /// The plan check's findings: violations, and steps a leader ran again in its own term
    /// (it stepped down and led again while its leader key never lapsed), which no other
    /// controller can have run in between.
    struct PlanFindings {
        var violations: [String] = []
        var sameTermReruns: [String] = []
    }

    /// Per epoch: one from → to everywhere (and the incident's), drain and fence on the old
    /// primary, promote and dns on the target; each token runs consecutive steps (a step
    /// again only after its previous run ended: a same-term re-run), tokens never go back,
    /// a new token resumes at the last started step or the one after it (only when that
    /// one ended), and a succeeded incident's every step ended.
    static func plans(_ starts: [ChaosPlanStart], ends: StepEnds, incidents: [ChaosIncidentFacts]) -> PlanFindings {
        var findings = PlanFindings()
        for (epoch, runs) in Dictionary(grouping: starts, by: \.epoch).sorted(by: { $0.key < $1.key }) {
            let runs = runs.sorted { ($0.ms, $0.pid) < ($1.ms, $1.pid) }
            let incident = incidents.first { $0.epoch == epoch }
            findings.violations += routes(epoch: epoch, runs, incident: incident)
            order(epoch: epoch, runs, ends: ends, incident: incident, into: &findings)
        }
        return findings
    }

    private static func routes(epoch: Int, _ runs: [ChaosPlanStart], incident: ChaosIncidentFacts?) -> [String] {
        var found: [String] = []
        let routes = Set(runs.map { "\($0.from)→\($0.to) \($0.incident)" })
        if routes.count > 1 { found.append("epoch \(epoch) has \(routes.count) plans: \(routes.sorted())") }
        for run in runs where run.incident != "web-\(epoch)" {
            found.append("epoch \(epoch): \(run.step) by \(run.controller) ran for incident \(run.incident)")
        }
        if let incident, let run = runs.first, (run.from, run.to) != (incident.from, incident.to) {
            found.append(
                "epoch \(epoch)'s steps run \(run.from)→\(run.to), its incident \(incident.from)→\(incident.to)")
        }
        for run in runs {
            let expected = run.step == "drain" || run.step == "fence" ? run.from : run.to
            if run.site != expected {
                found.append("epoch \(epoch): \(run.step) by \(run.controller) acted on \(run.site), not \(expected)")
            }
        }
        return found
    }

    private static func order(
        epoch: Int, _ runs: [ChaosPlanStart], ends: StepEnds, incident: ChaosIncidentFacts?,
        into findings: inout PlanFindings
    ) {
        var highest: (Int, Int)?
        var maxStarted = -1
        var ended = Set<Int>()
        var lastOfToken: [String: (index: Int, pid: Int32)] = [:]
        for run in runs {
            guard let index = plan.firstIndex(of: run.step), let token = token(run.token) else {
                findings.violations.append("epoch \(epoch): \(run.step) by \(run.controller) with token \(run.token)")
                continue
            }
            let at = "epoch \(epoch): token \(run.token)"
            if token.0 != epoch { findings.violations.append("\(at) on a step of this epoch (\(run.step))") }
            if let highest, token < highest {
                findings.violations.append("\(at) ran \(run.step) after token \(highest.0).\(highest.1) had run")
            }
            if let last = lastOfToken[run.token] {
                if index == last.index, let end = ends[last.pid], end.ms <= run.ms {
                    findings.sameTermReruns.append(
                        "\(at) ran \(run.step) again at \(run.ms) (\(run.controller); its run pid \(last.pid) ended \(end.event) at \(end.ms))"
                    )
                } else if index != last.index + 1 {
                    findings.violations.append(
                        "\(at) ran \(plan[last.index]) (pid \(last.pid)) then \(run.step) at \(run.ms)")
                }
            } else if maxStarted >= 0, index != maxStarted, !(index == maxStarted + 1 && ended.contains(maxStarted)) {
                findings.violations.append("\(at) resumed at \(run.step), the last started was \(plan[maxStarted])")
            } else if maxStarted < 0, index != 0 {
                findings.violations.append("epoch \(epoch): its first step was \(run.step)")
            }
            lastOfToken[run.token] = (index, run.pid)
            if highest == nil || token > highest! { highest = token }
            maxStarted = max(maxStarted, index)
            if ends[run.pid]?.event == "END" { ended.insert(index) }
        }
        if incident?.result == "succeeded", ended.count < plan.count {
            let missing = plan.indices.filter { !ended.contains($0) }.map { plan[$0] }
            findings.violations.append("epoch \(epoch) succeeded without \(missing.joined(separator: ", ")) ending")
        }
    }

    /// `EPOCH.TERM` as integers.
    static func token(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let epoch = Int(parts[0]), let term = Int(parts[1]) else { return nil }
        return (epoch, term)
    }

    // MARK: 3. exactly one failover per primary loss while quorate

    /// Every incident is an automatic failover that succeeded and belongs to one loss (its
    /// old primary, decided while it was down or within `slackMs` after); a quorate loss has
    /// exactly one, a lost one none, a partial one at most one.
    static func failovers(_ losses: [ChaosPrimaryLoss], _ incidents: [ChaosIncidentFacts], slackMs: Int64 = 2_000)
        -> [String]
    {
        var found: [String] = []
        var matched = Array(repeating: 0, count: losses.count)
        for incident in incidents.sorted(by: { $0.epoch < $1.epoch }) {
            if incident.kind != "failover" { found.append("\(incident.id) is a \(incident.kind), not a failover") }
            if incident.result != "succeeded" { found.append("\(incident.id) ended \(incident.result)") }
            let loss = losses.indices.first {
                losses[$0].site == incident.from && incident.decidedMs >= losses[$0].downMs
                    && incident.decidedMs <= losses[$0].upMs + slackMs
            }
            if let loss {
                matched[loss] += 1
            } else {
                found.append(
                    "\(incident.id) (\(incident.from)→\(incident.to), decided \(incident.decidedMs)) without a primary loss"
                )
            }
        }
        for (loss, count) in zip(losses, matched) {
            let allowed: ClosedRange<Int> =
                switch loss.quorum {
                case .quorate: 1...1
                case .lost: 0...0
                case .partial: 0...1
                }
            if !allowed.contains(count) {
                found.append(
                    "\(loss.site) down \(loss.downMs)–\(loss.upMs) (\(loss.quorum.rawValue)): \(count) failovers")
            }
        }
        return found
    }

    /// How a loss stood with the controller quorum: `surely` are the windows each controller
    /// was out for certain (its lease gone: after the fault plus the TTL, until undone),
    /// `possibly` those it may have been out (from the fault until some time after undoing).
    static func quorum(down: Int64, up: Int64, surely: [(Int64, Int64)], possibly: [(Int64, Int64)])
        -> ChaosPrimaryLoss.Quorum
    {
        if covered(down, up, by: twoAtOnce(possibly)).isEmpty { return .quorate }
        let lost = covered(down, up, by: twoAtOnce(surely))
        return lost.reduce(0) { $0 + $1.1 - $1.0 } >= up - down ? .lost : .partial
    }

    /// The windows in which at least two of `windows` hold.
    static func twoAtOnce(_ windows: [(Int64, Int64)]) -> [(Int64, Int64)] {
        let edges = windows.flatMap { [($0.0, 1), ($0.1, -1)] }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var result: [(Int64, Int64)] = []
        var depth = 0, opened: Int64?
        for (at, change) in edges {
            depth += change
            if depth >= 2, opened == nil { opened = at }
            if depth < 2, let from = opened {
                if at > from { result.append((from, at)) }
                opened = nil
            }
        }
        return result
    }

    /// The parts of `windows` inside `from`…`to`.
    static func covered(_ from: Int64, _ to: Int64, by windows: [(Int64, Int64)]) -> [(Int64, Int64)] {
        windows.compactMap { w in
            let a = max(from, w.0), b = min(to, w.1)
            return a < b ? (a, b) : nil
        }
    }

    // MARK: 4. status converges

    /// Nil when every view is there, steady and the same, with a final last incident (or
    /// none); else what differs.
    static func convergence(_ views: [String: ChaosGroupView?]) -> String? {
        let shown = views.sorted { $0.key < $1.key }.map {
            "\($0.key): \($0.value.map(String.init(describing:)) ?? "no answer")"
        }
        let values = views.values.compactMap { $0 }
        guard values.count == views.count, let first = values.first else { return shown.joined(separator: "; ") }
        let final = ["succeeded", "none"].contains(first.lastResult)
        return values.allSatisfy({ $0 == first }) && first.phase == "steady" && final
            ? nil : shown.joined(separator: "; ")
    }

    // MARK: 5. every event exchanged once

    /// For each controller's own events, every other log holds each exactly as often.
    static func exchange(_ logs: [String: [ChaosEventKey]]) -> [String] {
        var found: [String] = []
        for origin in logs.keys.sorted() {
            let own = counts(logs[origin]!.filter { $0.controller == origin })
            for other in logs.keys.sorted() where other != origin {
                let copies = counts(logs[other]!.filter { $0.controller == origin })
                let doubled = copies.filter { $0.value > (own[$0.key] ?? 0) }
                let missing = own.filter { $0.value > (copies[$0.key] ?? 0) }
                if !doubled.isEmpty {
                    found.append(
                        "\(other) holds \(doubled.count) of \(origin)'s events too often, e.g. \(doubled.first!.key)")
                }
                if !missing.isEmpty {
                    found.append(
                        "\(other) lacks \(missing.count) of \(origin)'s \(own.count) events, e.g. \(missing.first!.key)"
                    )
                }
            }
        }
        return found
    }

    private static func counts(_ keys: [ChaosEventKey]) -> [ChaosEventKey: Int] {
        keys.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }
}
