import FailoverCore

extension ExecAction {
    /// The report of a successful run: what its `FAILOVER_REPORT` lines said, with
    /// `ran NAME (exit 0)` when it named no change.
    func report(_ exit: SubprocessExit, command: [String]) -> ActionReport {
        var report = Self.parseReport(exit.stdout.marked)
        report.changed = report.changed.map(scrub)
        if report.changed.isEmpty { report.changed = ["ran \(Self.displayName(command)) (exit 0)"] }
        return report
    }

    /// Reads `FAILOVER_REPORT key=value` lines; unknown keys and unreadable values are
    /// ignored (a script's report never fails a step that succeeded).
    static func parseReport(_ lines: [String]) -> ActionReport {
        var report = ActionReport()
        for line in lines {
            let body = line.dropFirst(reportMarker.count).trimmingWhitespace
            guard let equals = body.firstIndex(of: "=") else { continue }
            let key = String(body[..<equals]).trimmingWhitespace
            let value = String(body[body.index(after: equals)...]).trimmingWhitespace
            apply(key: key, value: value, to: &report)
        }
        return report
    }

    private static func apply(key: String, value: String, to report: inout ActionReport) {
        switch key {
        case "lag_bytes":
            guard let bytes = Int64(value), bytes >= 0 else { return }
            report.lag = ReplicationLag(bytes: bytes, seconds: report.lag?.seconds)
        case "lag_seconds":
            guard let seconds = Double(value), seconds >= 0, seconds.isFinite else { return }
            report.lag = ReplicationLag(bytes: report.lag?.bytes, seconds: seconds)
        case "dns_ttl":
            // `30s` style, or a bare number of seconds as DNS tools print it.
            if let ttl = Duration(text: value) ?? Int64(value).map({ Duration.seconds($0) }), ttl >= .zero {
                report.dnsTTL = ttl
            }
        case "changed":
            if !value.isEmpty { report.changed.append(String(value.prefix(200))) }
        default:
            return
        }
    }
}
