import FailoverCore

/// Receives a step's progress from the `StepRunner` (the controller writes events).
///
/// For one run of a step: `stepStarted` once, `attemptFailed` once per failed attempt
/// (in order), then `stepFinished` once, unless the runner is cancelled, in which case
/// `stepFinished` is not called (the step will be run again on resume). Calls are made
/// one at a time from the runner's task; an implementation should return promptly.
public protocol StepObserver: Sendable {
    /// The step started at `at` (before its first attempt, or before being skipped).
    func stepStarted(_ context: RunContext, step: ResolvedStep, at: Timestamp) async
    /// Attempt `attempt` (from 1) failed with `error`; `retryIn` is the backoff before the
    /// next attempt, or nil when no attempt follows.
    func attemptFailed(
        _ context: RunContext, step: ResolvedStep, attempt: Int, error: ActionError, retryIn: Duration?) async
    /// The step ended with `outcome` (ok, failed or skipped).
    func stepFinished(_ context: RunContext, step: ResolvedStep, outcome: StepOutcome) async
}

/// An observer that ignores everything.
public struct NoStepObserver: StepObserver {
    /// Creates the observer.
    public init() {}
    /// Ignored.
    public func stepStarted(_ context: RunContext, step: ResolvedStep, at: Timestamp) async {}
    /// Ignored.
    public func attemptFailed(
        _ context: RunContext, step: ResolvedStep, attempt: Int, error: ActionError, retryIn: Duration?
    ) async {}
    /// Ignored.
    public func stepFinished(_ context: RunContext, step: ResolvedStep, outcome: StepOutcome) async {}
}

/// The wait between a failed attempt and the next: `base`, then doubling, at most `cap`.
public struct Backoff: Sendable, Equatable {
    /// The wait after the first failed attempt.
    public var base: Duration
    /// The longest wait.
    public var cap: Duration

    /// Creates a backoff (default 1 s, 2 s, 4 s ... capped at 30 s).
    public init(base: Duration = .seconds(1), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    /// The wait after failed attempt `attempt` (from 1): `base × 2^(attempt−1)`, capped.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var delay = min(base, cap)
        var doublings = max(0, attempt - 1)
        while doublings > 0 && delay < cap {
            delay = min(delay * 2, cap)
            doublings -= 1
        }
        return delay
    }
}
