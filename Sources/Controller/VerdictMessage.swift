import FailoverCore

/// The readable sentences and event details of verdict changes (pure).
enum VerdictMessage {
    /// One sentence for a site's state change, e.g.
    /// `site east is down: 3 failed rounds in a row (api: unexpected_status 503)`.
    static func transition(_ t: SiteTransition, site: SiteConfig, round: ProbeRound) -> String {
        let why = reasons(round)
        switch t.to {
        case .down where t.from == .recovering:
            return "site \(site.name) is down again: a failed round ended its recovery (\(why))"
        case .down:
            return "site \(site.name) is down: \(t.fails) failed round\(t.fails == 1 ? "" : "s") in a row (\(why))"
        case .suspect:
            return "site \(site.name) is suspect: \(t.fails) of \(site.fall) failed rounds (\(why))"
        case .recovering:
            return "site \(site.name) is recovering: \(t.passes) of \(site.rise) good rounds"
        case .up:
            return "site \(site.name) is up: \(t.passes) good round\(t.passes == 1 ? "" : "s") in a row"
        case .unknown:
            return "site \(site.name) has no verdict"
        }
    }

    /// One sentence for a change of the quorum's verdict.
    static func quorum(site: String, from: Verdict, to: QuorumVerdict) -> String {
        let agreeing = to.votes.values.filter { $0 == to.verdict }.count
        return "quorum verdict on site \(site): \(from.rawValue) ➜ \(to.verdict.rawValue)"
            + " (\(agreeing) of \(to.votes.count) live votes, \(to.needed) needed)"
    }

    /// What failed in a round: `check: diagnosis` for each check that did not pass.
    static func reasons(_ round: ProbeRound) -> String {
        let failed = round.results.filter { $0.outcome != .pass }
        guard !failed.isEmpty else { return "all checks passed" }
        return failed.map { result in
            var text = "\(result.check): \(result.diagnosis.label)"
            if let status = result.status, status > 0 { text += " \(status)" }
            if let days = result.certDaysLeft, case .certificateExpiring = result.diagnosis { text += " (\(days) days left)" }
            return text
        }.joined(separator: "; ")
    }

    /// The event details of a state change: the transition and the round behind it.
    static func details(_ t: SiteTransition, site: SiteConfig, round: ProbeRound, message: String) -> JSONValue {
        var object: [String: JSONValue] = [
            "from": .string(t.from.rawValue), "to": .string(t.to.rawValue),
            "verdict": .string(t.to.verdict.rawValue), "passes": .number(Double(t.passes)),
            "fails": .number(Double(t.fails)), "fall": .number(Double(site.fall)), "rise": .number(Double(site.rise)),
            "require": .string(site.require.rawValue), "message": .string(message),
        ]
        if let lastOK = t.lastOK { object["last_ok"] = .number(Double(lastOK.milliseconds)) }
        if let firstFail = t.firstFail { object["first_fail"] = .number(Double(firstFail.milliseconds)) }
        object["results"] = (try? JSONValue(encoding: round.results)) ?? .array([])
        return .object(object)
    }
}
