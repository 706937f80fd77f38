import FailoverCore

/// The human form of a status report.
enum StatusTable {
    static func render(_ report: StatusReport, now: Timestamp, paint: Paint = Paint(enabled: false)) -> String {
        var lines: [String] = []
        let source = report.source == "api" ? "live" : "stored state"
        lines.append("\(paint.level(report.level)): controller \(report.controller), \(source) at \(report.generatedAt)")
        for problem in report.problems { lines.append("  - \(problem)") }
        let shared = report.coordination.backend != "local"
        if shared { lines.append(contentsOf: [""] + coordination(report.coordination)) }
        lines.append("")
        var rows: [[String]] = [
            ["SITE", "STATE", "QUORUM"] + (shared ? ["VOTES"] : []) + ["SINCE", "CHECK", "KIND", "RESULT", "LATENCY"]
        ]
        for site in report.sites {
            let since = site.since.map { "\($0) (\(age(now.since($0))) ago)" } ?? "-"
            let quorum = "\(site.quorum.verdict.rawValue) \(site.quorum.votes.count)/\(site.quorum.needed)"
            let votes = report.coordination.members.map { "\($0)=\(site.quorum.votes[$0]?.rawValue ?? "-")" }.joined(separator: " ")
            let head = [site.name, site.state.rawValue, quorum] + (shared ? [votes] : []) + [since]
            if site.checks.isEmpty { rows.append(head + ["-", "-", "no result yet", "-"]) }
            for (index, check) in site.checks.enumerated() {
                let prefix = index == 0 ? head : Array(repeating: "", count: head.count)
                rows.append(prefix + [check.check, check.kind, result(check), String(format: "%.1fms", check.timings.total)])
            }
        }
        lines.append(contentsOf: table(rows))
        if !report.groups.isEmpty {
            lines.append("")
            lines.append(contentsOf: table(groupRows(report.groups)))
        }
        if let alerts = report.alerts {
            let oldest = alerts.oldestPendingAt.map { ", oldest queued \(age(now.since($0))) ago" } ?? ""
            lines.append("")
            lines.append("alerts: \(alerts.pending) pending\(oldest), \(alerts.failed) given up")
            for problem in alerts.problems { lines.append("  - \(problem)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The coordination summary and one row per member (etcd).
    static func coordination(_ c: CoordinationStatus) -> [String] {
        let head =
            "coordination \(c.backend): \(c.quorate ? "quorate" : "NOT QUORATE")"
            + ", leader \(c.leader ?? "none"), \(c.memberStates.filter(\.alive).count) of \(c.members.count) members alive, \(c.needed) votes needed"
            + (c.problem.map { " (\($0))" } ?? "")
        var rows = [["MEMBER", "ALIVE", "LEASE AGE", "LEADER"]]
        for m in c.memberStates {
            rows.append([m.id, m.alive ? "yes" : "NO", m.leaseAgeMs.map { age(.milliseconds($0)) } ?? "-", m.leader ? "leader" : ""])
        }
        return [head] + table(rows)
    }

    static func groupRows(_ groups: [GroupStatus]) -> [[String]] {
        var rows = [["GROUP", "PRIMARY", "STATE", "EPOCH", "NOW", "LAST INCIDENT"]]
        for group in groups {
            let now = group.run.map { "\($0.incident) \($0.from)→\($0.to) step \($0.step)/\($0.steps) \($0.stepKind.rawValue)" }
                ?? group.hold.map { "held: \($0.rawValue)" } ?? "-"
            let last = group.lastIncident.map { i in
                let rto = i.rtoMs.map { " RTO \(ReportTable.ms($0))" } ?? ""
                return "\(i.id) \(i.kind.rawValue) \(i.from)→\(i.to) \(i.result.rawValue)\(rto) \(i.passed ? "PASS" : "FAIL")"
            } ?? "-"
            rows.append([group.name, group.primary, group.phase, "\(group.epoch)", now, last])
        }
        return rows
    }

    static func result(_ r: ProbeResult) -> String {
        var text = r.diagnosis.label
        if let status = r.status, status > 0 { text += " \(status)" }
        if let days = r.certDaysLeft { text += " cert \(days)d" }
        if let database = r.database {
            text += " " + database.summary + (database.role == .replica ? ", lag \(r.lagBytes ?? 0) B" : "")
        }
        if let error = r.error, r.diagnosis != .ok {
            text += ": " + (error.count > 72 ? error.prefix(71) + "…" : error)
        }
        return text
    }

    static func age(_ d: Duration) -> String {
        let s = max(d.milliseconds / 1_000, 0)
        if s < 120 { return "\(s)s" }
        if s < 7_200 { return "\(s / 60)m" }
        return "\(s / 3_600)h"
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { col in rows.map { $0[col].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
