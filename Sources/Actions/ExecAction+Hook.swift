import FailoverCore

/// The answer of a group's pre hook.
public struct HookResult: Sendable, Equatable {
    /// Whether the failover may go ahead.
    public var allowed: Bool
    /// One readable sentence: why it was allowed or vetoed (secrets scrubbed).
    public var detail: String

    /// Creates a result.
    public init(allowed: Bool, detail: String) {
        self.allowed = allowed
        self.detail = detail
    }
}

extension ExecAction {
    /// Runs a group's pre hook `command` with the `FAILOVER_*` environment
    /// (`FAILOVER_STEP=pre`, `FAILOVER_TOKEN` and `FAILOVER_TERM` as for a step, no
    /// `FAILOVER_SITE`) and decides: exit 0 allows the failover;
    /// a non-zero exit, a timeout or a command that cannot start vetoes it. An empty
    /// command allows. Bounded by `timeout` (the group's `hook_timeout`) plus the kill
    /// grace. Throws only `CancellationError`, when the calling task is cancelled (the
    /// hook is then stopped and the decision left to whoever resumes).
    public func runHook(command: [String], context: RunContext, timeout: Duration) async throws -> HookResult {
        guard !command.isEmpty else { return HookResult(allowed: true, detail: "no pre hook configured") }
        let name = Self.displayName(command)
        let environment = Self.environment(context: context, step: "pre", site: nil)
        do {
            let exit = try await run(command, environment: environment, timeout: timeout)
            try Task.checkCancellation()
            try check(exit, command: command, timeout: timeout)
            return HookResult(allowed: true, detail: "pre hook \(name) allowed the failover (exit 0)")
        } catch let error as ActionError {
            try Task.checkCancellation()
            return HookResult(allowed: false, detail: "pre hook vetoed the failover: \(error.description)")
        }
    }
}
