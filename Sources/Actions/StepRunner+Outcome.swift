import FailoverCore
import Logging

extension StepRunner {
    /// The outcome of `step`, ended now.
    func finish(
        _ step: ResolvedStep, startedAt: Timestamp, attempts: Int, result: StepRecord.Result, error: String? = nil,
        report: ActionReport? = nil
    ) -> StepOutcome {
        let record = StepRecord(
            index: step.index, kind: step.kind, site: step.site, startedAt: startedAt, endedAt: wallClock.now(),
            attempts: attempts, result: result, error: error, changed: report?.changed ?? [])
        return StepOutcome(record: record, lag: report?.lag, dnsTTL: report?.dnsTTL, restoredAt: report?.restoredAt)
    }

    /// Logs the end of a step as one sentence.
    func log(_ outcome: StepOutcome, step: ResolvedStep, context: RunContext) {
        let record = outcome.record
        let tries = record.attempts == 1 ? "1 attempt" : "\(record.attempts) attempts"
        switch record.result {
        case .ok:
            let changed = record.changed.isEmpty ? "" : ": " + record.changed.joined(separator: "; ")
            logger.info("step \(step.summary) succeeded after \(tries)\(changed)", metadata: metadata(step, context))
        case .skipped:
            logger.info("step \(step.summary)", metadata: metadata(step, context))
        case .failed:
            let name = step.kind.rawValue + (step.site.map { " \($0)" } ?? "")
            let after = record.attempts == 0 ? "" : " after \(tries)"
            let error = record.error ?? "unknown error"
            logger.error("step \(name) failed\(after): \(error)", metadata: metadata(step, context))
        }
    }

    /// The fixed metadata keys of a step's log lines.
    func metadata(_ step: ResolvedStep, _ context: RunContext) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "group": "\(context.group)", "epoch": "\(context.epoch)", "step": "\(step.kind.rawValue)",
        ]
        if let site = step.site { metadata["site"] = "\(site)" }
        return metadata
    }
}
