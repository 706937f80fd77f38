import FailoverCore

/// Runs one resolved plan step of a failover to its end: attempts, per-attempt timeout,
/// retries with backoff, progress to a `StepObserver`, and a `StepOutcome` for the
/// group machine.
///
/// Guarantees:
/// - `skip` ends `skipped` and `unavailable` (or a step no plugin can run) ends `failed`,
///   both without an attempt.
/// - At most `1 + step.retries` attempts; each is cancelled at `step.timeout` on the
///   injected clock and then counts as a `timedOut` failure. Only retryable errors are
///   retried, after `backoff.delay(afterAttempt:)` slept on the same clock.
/// - Cancelling the runner's task cancels the running attempt (or the backoff) and makes
///   `run` throw `CancellationError` promptly, without `stepFinished`: the plan resumes
///   at this step after a restart.
public struct StepRunner: Sendable {
    private let registry: PluginRegistry
    private let observer: any StepObserver
    private let clock: any Clock<Duration>
    let wallClock: any WallClock
    private let backoff: Backoff

    /// Creates a runner. `clock` times attempts and backoff; `wallClock` stamps records.
    public init(
        registry: PluginRegistry, observer: any StepObserver = NoStepObserver(),
        clock: any Clock<Duration> = ContinuousClock(), wallClock: any WallClock = SystemWallClock(),
        backoff: Backoff = Backoff()
    ) {
        self.registry = registry
        self.observer = observer
        self.clock = clock
        self.wallClock = wallClock
        self.backoff = backoff
    }

    /// Runs `step` of the failover `context` to its end and returns its outcome; throws
    /// only `CancellationError`, also when `permit` (asked before every attempt) says this
    /// controller may no longer act.
    public func run(
        _ step: ResolvedStep, context: RunContext, permit: @escaping @Sendable () async -> Bool = { true }
    ) async throws -> StepOutcome {
        try Task.checkCancellation()
        guard await permit() else { throw CancellationError() }
        let startedAt = wallClock.now()
        await observer.stepStarted(context, step: step, at: startedAt)
        let outcome: StepOutcome
        switch step.action {
        case .skip:
            outcome = finish(step, startedAt: startedAt, attempts: 0, result: .skipped)
        case .unavailable(let reason):
            outcome = finish(step, startedAt: startedAt, attempts: 0, result: .failed, error: reason)
        case .plugin, .verify:
            if let plugin = registry.plugin(for: step.action) {
                outcome = try await attempts(plugin, step: step, context: context, startedAt: startedAt, permit: permit)
            } else {
                let error = "no plugin can run \(step.summary)"
                outcome = finish(step, startedAt: startedAt, attempts: 0, result: .failed, error: error)
            }
        }
        await observer.stepFinished(context, step: step, outcome: outcome)
        return outcome
    }

    private func attempts(
        _ plugin: any ActionPlugin, step: ResolvedStep, context: RunContext, startedAt: Timestamp,
        permit: @Sendable () async -> Bool
    ) async throws -> StepOutcome {
        let limit = 1 + max(0, step.retries)
        var attempt = 1
        while true {
            let request = ActionRequest(context: context, step: step, attempt: attempt, timeout: step.timeout)
            do {
                let report = try await perform(plugin, request)
                return finish(step, startedAt: startedAt, attempts: attempt, result: .ok, report: report)
            } catch let error as ActionError {
                let retry = error.isRetryable && attempt < limit
                let delay = retry ? backoff.delay(afterAttempt: attempt) : nil
                await observer.attemptFailed(context, step: step, attempt: attempt, error: error, retryIn: delay)
                guard let delay else {
                    return finish(
                        step, startedAt: startedAt, attempts: attempt, result: .failed, error: error.description)
                }
                try await clock.sleep(for: delay)
                guard await permit() else { throw CancellationError() }
                attempt += 1
            }
        }
    }

    /// One attempt, cancelled at the step's timeout. Throws `CancellationError` when the
    /// runner is cancelled, else an `ActionError`.
    func perform(_ plugin: any ActionPlugin, _ request: ActionRequest) async throws -> ActionReport {
        let (result, deadline) = await withTaskGroup(of: AttemptEnd.self) { group in
            group.addTask {
                do { return .done(.success(try await plugin.perform(request))) } catch { return .done(.failure(error)) }
            }
            group.addTask { [clock] in
                (try? await clock.sleep(for: request.timeout)) == nil ? .stopped : .deadline
            }
            var result: Result<ActionReport, any Error>?
            var deadline = false
            for await end in group {
                // The first end decides: the plugin's answer stops the timer, the
                // deadline cancels the plugin (which must then return promptly).
                group.cancelAll()
                switch end {
                case .done(let answer): result = answer
                case .deadline: deadline = result == nil
                case .stopped: break
                }
            }
            return (result, deadline)
        }
        try Task.checkCancellation()
        switch result {
        case .success(let report): return report
        case .failure(let error) where !deadline: throw ActionError.from(error)
        case .failure, nil: throw ActionError.timedOut(after: request.timeout)
        }
    }

    private enum AttemptEnd: Sendable {
        case done(Result<ActionReport, any Error>)
        case deadline
        case stopped
    }
}
