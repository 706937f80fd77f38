import Actions
import EventLog
import FailoverCore
import Logging

/// Writes a step's progress to the event log and the log: `step_started`,
/// `step_attempt_failed` and `step_finished`, each with the group, site and epoch, and the
/// run's fencing token (`"token": "EPOCH.TERM"`) in its details.
struct StepEvents: StepObserver {
    let controller: String
    let store: EventStore
    let wallClock: any WallClock
    /// Values scrubbed from messages (an exec command's arguments may quote a secret).
    let secrets: [String]
    let logger: Logger

    func stepStarted(_ context: RunContext, step: ResolvedStep, at: Timestamp) async {
        let message = "\(context.incident): step \(step.index + 1) \(step.summary)"
        record(context, step, .stepStarted, at: at, message: message, [:])
    }

    func attemptFailed(
        _ context: RunContext, step: ResolvedStep, attempt: Int, error: ActionError, retryIn: Duration?
    ) async {
        let next = retryIn.map { "retrying in \($0.text)" } ?? "no attempt left"
        let message = "\(context.incident): step \(step.index + 1) (\(step.kind.rawValue)) attempt \(attempt) failed, \(next): \(error)"
        var details: [String: JSONValue] = ["attempt": .number(Double(attempt)), "error": .string(error.description)]
        if let retryIn { details["retry_in_ms"] = .number(Double(retryIn.milliseconds)) }
        record(context, step, .stepAttemptFailed, at: wallClock.now(), message: message, details)
    }

    func stepFinished(_ context: RunContext, step: ResolvedStep, outcome: StepOutcome) async {
        let record = outcome.record
        let took = record.endedAt.since(record.startedAt).text
        let detail = record.error.map { ": \($0)" } ?? (record.changed.isEmpty ? "" : ": " + record.changed.joined(separator: "; "))
        let message = "\(context.incident): step \(step.index + 1) (\(step.kind.rawValue)) \(record.result.rawValue) after \(record.attempts) attempt\(record.attempts == 1 ? "" : "s") in \(took)\(detail)"
        var details: [String: JSONValue] = [
            "result": .string(record.result.rawValue), "attempts": .number(Double(record.attempts)),
            "duration_ms": .number(Double(record.endedAt.since(record.startedAt).milliseconds)),
            "changed": .array(record.changed.map { .string($0) }),
        ]
        if let error = record.error { details["error"] = .string(error) }
        if let lag = outcome.lag { details["lag"] = (try? JSONValue(encoding: lag)) ?? .null }
        if let ttl = outcome.dnsTTL { details["dns_ttl_ms"] = .number(Double(ttl.milliseconds)) }
        if let restored = outcome.restoredAt { details["restored_at"] = .number(Double(restored.milliseconds)) }
        self.record(context, step, .stepFinished, at: record.endedAt, message: message, details)
    }

    private func record(
        _ context: RunContext, _ step: ResolvedStep, _ kind: EventKind, at: Timestamp, message: String,
        _ extra: [String: JSONValue]
    ) {
        var details = extra
        let message = Redaction.scrub(message, secrets: secrets)
        if let error = details["error"]?.stringValue { details["error"] = .string(Redaction.scrub(error, secrets: secrets)) }
        details["message"] = .string(message)
        details["incident"] = .string(context.incident)
        details["token"] = .string(context.token.description)
        details["step"] = .number(Double(step.index))
        details["step_kind"] = .string(step.kind.rawValue)
        details["action"] = .string(Redaction.scrub(step.summary, secrets: secrets))
        let event = Event(
            at: at, controller: controller, group: context.group, site: step.site, epoch: context.epoch, kind: kind,
            details: .object(details))
        var log = logger
        log[metadataKey: "group"] = "\(context.group)"
        log[metadataKey: "epoch"] = "\(context.epoch)"
        log[metadataKey: "step"] = "\(step.kind.rawValue)"
        if kind == .stepStarted { log.info("\(message)") } else { log.notice("\(message)") }
        do {
            try store.recordEvent(event)
        } catch {
            log.error("cannot write event \(kind.rawValue) to the event log: \(error)")
        }
    }
}
