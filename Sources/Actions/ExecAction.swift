import FailoverCore
import Foundation
import Logging

/// Runs a local command (argv, no shell) for an `exec` step or a site's `exec` action.
///
/// Guarantees, beyond `ActionPlugin`'s:
/// - The command runs in its own process group with stdin from /dev/null and the
///   controller's environment plus `FAILOVER_GROUP`, `FAILOVER_FROM`, `FAILOVER_TO`,
///   `FAILOVER_EPOCH`, `FAILOVER_TERM` (the leadership term the step runs in),
///   `FAILOVER_TOKEN` (the fencing token `EPOCH.TERM`), `FAILOVER_STEP`,
///   `FAILOVER_INCIDENT`, `FAILOVER_DRILL` (`1`/`0`) and `FAILOVER_SITE` (when the step
///   acts on a site). Idempotence is the command's job: it gets the epoch to make re-runs
///   safe, and the token to refuse a run from a leader that was superseded (a target keeps
///   the highest token it accepted and refuses lower ones; docs/fencing.md).
/// - The command never outlives the controller: it runs under a guard process that kills
///   it and its whole process group when the controller dies, even by SIGKILL (`Subprocess`).
/// - Exit 0 is success; any other exit is a retryable failure naming the command, the
///   status and the last line of stderr (200 characters at most, secrets scrubbed); a
///   command that cannot be started is a `cannotStart` error (not retryable).
/// - At `request.timeout` the whole process group gets SIGTERM, then SIGKILL after
///   `killGrace`; when its task is cancelled (the lease's deadline, a step-down, shutdown)
///   SIGTERM, then SIGKILL after `cancelGrace` (250 ms), well inside the lease's margin, so
///   a command that ignores SIGTERM still ends before another leader may act. The child is
///   always reaped; a timed-out attempt throws `timedOut`.
/// - stdout and stderr are drained continuously (only their last 4 KiB are kept), so a
///   chatty command never blocks. stdout lines `FAILOVER_REPORT lag_bytes=N`,
///   `lag_seconds=X`, `dns_ttl=30s` and `changed=sentence` fill the report.
public struct ExecAction: ActionPlugin {
    /// The marker of report lines on a command's stdout.
    public static let reportMarker = "FAILOVER_REPORT "

    private let secrets: [String]
    private let killGrace: Duration
    private let cancelGrace: Duration
    private let clock: any Clock<Duration>
    private let logger: Logger

    /// Creates the plugin. `secrets` are scrubbed from every error and report (typically
    /// the `${ENV}` values the config interpolated); `clock` times the attempt's timeout.
    public init(
        secrets: [String] = [], killGrace: Duration = .seconds(2), cancelGrace: Duration = .milliseconds(250),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger = Logger(label: "failoverctl.actions.exec")
    ) {
        self.secrets = secrets
        self.killGrace = killGrace
        self.cancelGrace = min(cancelGrace, killGrace)
        self.clock = clock
        self.logger = logger
    }

    /// Runs the step's command once; see the type's guarantees.
    public func perform(_ request: ActionRequest) async throws -> ActionReport {
        guard case .plugin(.exec(let command)) = request.step.action else {
            throw ActionError.permanent("the exec plugin cannot run \(request.step.summary)")
        }
        let environment = Self.environment(
            context: request.context, step: request.step.kind.rawValue, site: request.step.site)
        let exit = try await run(command, environment: environment, timeout: request.timeout)
        try check(exit, command: command, timeout: request.timeout)
        return report(exit, command: command)
    }

    /// The environment a command gets: this process's plus the `FAILOVER_*` variables.
    public static func environment(
        context: RunContext, step: String, site: String?,
        base: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String: String] {
        var env = base
        env["FAILOVER_GROUP"] = context.group
        env["FAILOVER_FROM"] = context.from
        env["FAILOVER_TO"] = context.to
        env["FAILOVER_EPOCH"] = String(context.epoch)
        env["FAILOVER_TERM"] = String(context.term)
        env["FAILOVER_TOKEN"] = context.token.description
        env["FAILOVER_STEP"] = step
        env["FAILOVER_INCIDENT"] = context.incident
        env["FAILOVER_DRILL"] = context.drill ? "1" : "0"
        env["FAILOVER_SITE"] = site
        return env
    }

    /// Spawns `command` and waits for it, stopping its group at `timeout` or on
    /// cancellation.
    func run(_ command: [String], environment: [String: String], timeout: Duration) async throws(ActionError)
        -> SubprocessExit
    {
        let child = try Subprocess.spawn(command, environment: environment, reportMarker: Self.reportMarker)
        let (grace, cancelled) = (killGrace, cancelGrace)
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { [clock] in
                // Thrown only when cancelled: the child ended first (or the caller left,
                // which the cancellation handler below covers).
                guard (try? await clock.sleep(for: timeout)) != nil else { return }
                child.stop(grace: grace)
            }
            let exit = await withTaskCancellationHandler {
                await child.wait()
            } onCancel: {
                child.stop(grace: cancelled)
            }
            group.cancelAll()
            return exit
        }
    }

    /// Throws the error a non-successful exit means.
    func check(_ exit: SubprocessExit, command: [String], timeout: Duration) throws(ActionError) {
        let name = Self.displayName(command)
        if exit.termination == .exited(0) { return }
        if exit.stopped {
            logger.debug("\(name) stopped at its time limit", metadata: stderrMetadata(exit))
            throw .timedOut(after: timeout, detail: "\(name) was stopped")
        }
        let status: String
        switch exit.termination {
        case .exited(let code): status = "\(name) exited with status \(code)"
        case .signaled(let signal): status = "\(name) was killed by signal \(signal)"
        case .lost: status = "\(name) ended with an unknown status"
        }
        let line = String(scrub(exit.stderr.lastLine).prefix(200))
        logger.debug("\(status)", metadata: stderrMetadata(exit))
        throw .failed(line.isEmpty ? status : "\(status): \(line)", retryable: true)
    }

    private func stderrMetadata(_ exit: SubprocessExit) -> Logger.Metadata {
        let tail = scrub(exit.stderr.tail)
        return tail.isEmpty ? [:] : ["stderr": "\(tail)"]
    }

    /// `text` with the configured secrets removed.
    func scrub(_ text: String) -> String { Redaction.scrub(text, secrets: secrets) }

    /// The basename of `argv[0]`, for messages.
    static func displayName(_ command: [String]) -> String {
        guard let first = command.first, !first.isEmpty else { return "(empty command)" }
        return first.split(separator: "/").last.map(String.init) ?? first
    }
}
