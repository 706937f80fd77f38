import FailoverCore

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
}
