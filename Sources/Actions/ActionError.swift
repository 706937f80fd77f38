/// Why an action attempt did not succeed.
///
/// Compare with a factory (`error == .cannotStart("")`) or use `isRetryable`: equality
/// looks at the kind and the retry class only, not at the detail or the limit.
/// `description` is one readable sentence with secrets already removed (plugins build it
/// from scrubbed text; see `ActionPlugin`).
public struct ActionError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case failed
        case timedOut
        case cannotStart
        case unavailable
        case permanent
    }

    private let code: Code
    private let retryable: Bool
    /// What went wrong beyond the kind of error (a command's exit status and last line...).
    public private(set) var detail: String
    /// For `timedOut`: the attempt's time limit.
    public private(set) var limit: Duration?

    private init(_ code: Code, retryable: Bool, detail: String, limit: Duration? = nil) {
        self.code = code
        self.retryable = retryable
        self.detail = detail
        self.limit = limit
    }

    /// The action ran and failed; `retryable` says whether a new attempt may succeed.
    public static func failed(_ detail: String, retryable: Bool = true) -> ActionError {
        ActionError(.failed, retryable: retryable, detail: detail)
    }

    /// The attempt did not finish within `after` and was stopped. Retryable.
    public static func timedOut(after: Duration, detail: String = "") -> ActionError {
        ActionError(.timedOut, retryable: true, detail: detail, limit: after)
    }

    /// The action could not be started at all (no such command, not executable). Not
    /// retryable: the same attempt would fail the same way.
    public static func cannotStart(_ detail: String) -> ActionError {
        ActionError(.cannotStart, retryable: false, detail: detail)
    }

    /// No plugin can run this step (a required action is missing). Not retryable.
    public static func unavailable(_ reason: String) -> ActionError {
        ActionError(.unavailable, retryable: false, detail: reason)
    }

    /// The action failed in a way no retry can fix (refused by the target, bad options).
    public static func permanent(_ detail: String) -> ActionError {
        ActionError(.permanent, retryable: false, detail: detail)
    }

    /// True when a new attempt may succeed (a failure reported retryable, a timeout);
    /// false when the same attempt will fail again until someone changes the config or
    /// the target.
    public var isRetryable: Bool { retryable }

    /// Whether the attempt was stopped at its time limit.
    public var isTimeout: Bool { code == .timedOut }

    /// Whether the action could not be started.
    public var isCannotStart: Bool { code == .cannotStart }

    /// Whether no plugin could run the step.
    public var isUnavailable: Bool { code == .unavailable }

    /// Equal when both are the same kind of error with the same retry class, whatever the
    /// detail.
    public static func == (a: ActionError, b: ActionError) -> Bool {
        a.code == b.code && a.retryable == b.retryable
    }

    /// One readable sentence saying what went wrong.
    public var description: String {
        let suffix = detail.isEmpty ? "" : ": \(detail)"
        switch code {
        case .failed: return detail.isEmpty ? "action failed" : detail
        case .timedOut: return "timed out after \(limit?.text ?? "its time limit")\(suffix)"
        case .cannotStart: return "cannot start\(suffix)"
        case .unavailable: return "unavailable\(suffix)"
        case .permanent: return "failed permanently\(suffix)"
        }
    }

    /// `error` as an `ActionError`: itself, or a retryable failure carrying its text
    /// (an unknown error from a plugin is taken as transient, since steps are idempotent).
    public static func from(_ error: any Error) -> ActionError {
        if let mine = error as? ActionError { return mine }
        return .failed(String(describing: error), retryable: true)
    }
}
