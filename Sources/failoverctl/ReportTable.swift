import FailoverCore

/// The human form of incidents: one block each with RTO, phases, RPO and steps.
enum ReportTable {
    static func render(_ incidents: [IncidentView]) -> String {
        incidents.map(block).joined(separator: "\n\n")
    }

    static func block(_ view: IncidentView) -> String {
        let i = view.incident
        let m = view.measures
        var lines = ["\(i.id)  \(i.kind.rawValue)  \(i.from) → \(i.to)  \(i.result.rawValue)  \(m.passed ? "PASS" : "FAIL")  decided \(i.decided)"]
        lines.append("  " + rto(i, m))
        if let phases = phases(m) { lines.append("  phases: " + phases) }
        lines.append("  " + rpo(i, m))
        for step in i.steps.sorted(by: { $0.index < $1.index }) {
            let took = ms(step.endedAt.milliseconds - step.startedAt.milliseconds)
            let what = step.error ?? step.changed.joined(separator: "; ")
            lines.append("  step \(step.index + 1) \(step.kind.rawValue)\(step.site.map { " \($0)" } ?? ""): \(step.result.rawValue) in \(took), \(step.attempts) attempt\(step.attempts == 1 ? "" : "s")\(what.isEmpty ? "" : ": \(what)")")
        }
        if let error = i.error { lines.append("  error: \(error)") }
        return lines.joined(separator: "\n")
    }

    private static func rto(_ i: Incident, _ m: IncidentMeasures) -> String {
        guard let rto = m.rtoMs else {
            return i.result == .succeeded ? "RTO not measured (the plan has no verify step)" : "RTO not measured (not restored)"
        }
        var text = "RTO \(ms(rto))"
        if let target = i.rtoTargetMs { text += " (target \(ms(target)): \(m.rtoMet == true ? "met" : "MISSED"))" }
        text += i.planned ? ", from the decision (planned)" : ", from the first failed probe at \(i.start)"
        if let uncertainty = m.uncertaintyMs { text += ", ±\(ms(uncertainty)) (since the last good probe)" }
        if let ttl = i.dnsTTLMs, let worst = m.worstCaseClientMs { text += "; DNS TTL \(ms(ttl)): worst-case client \(ms(worst))" }
        return text
    }

    private static func phases(_ m: IncidentMeasures) -> String? {
        let parts = [("detection", m.detectionMs), ("decision", m.decisionMs), ("actuation", m.actuationMs), ("verification", m.verificationMs)]
            .compactMap { name, value in value.map { "\(name) \(ms($0))" } }
        return parts.isEmpty ? nil : parts.joined(separator: " + ")
    }

    private static func rpo(_ i: Incident, _ m: IncidentMeasures) -> String {
        guard let lag = i.lag, lag.bytes != nil || lag.seconds != nil else {
            return "RPO not measured (the old primary's last WAL position is unknown)"
        }
        var text = "RPO \(lag.text) (data at risk: the old primary's WAL the promoted replica had not received)"
        if let target = i.rpoTargetMs { text += " (target \(ms(target)): \(m.rpoMet.map { $0 ? "met" : "MISSED" } ?? "unknown"))" }
        return text
    }

    static func ms(_ value: Int64) -> String {
        value < 1_000 ? "\(value)ms" : Duration.milliseconds(value).text
    }
}
