import FailoverCore
import Logging
import PGWire

/// Promotes or fences a site's PostgreSQL server through libpq, for a `postgres` action:
/// `promote` when the site is the target, `fence` when it is the failed primary.
///
/// Guarantees, beyond `ActionPlugin`'s:
/// - All libpq work runs on a dedicated thread (`PGClient`), bounded by the attempt's
///   timeout (a timeout is retryable) and stopped within about 20 ms on cancellation, a
///   running query being cancelled on the server.
/// - `promote` is idempotent: a server not in recovery is reported "already primary". On a
///   replica it reads the lag first (bytes received but not replayed, seconds behind) and
///   reports it as the RPO; in a drill it waits, within the timeout, for zero lag; above
///   `max_lag` it refuses (permanently) unless the run is forced; then `pg_promote(true, N)`
///   and it verifies `pg_is_in_recovery()` is false, naming the new timeline.
/// - `fence` is idempotent: `ALTER SYSTEM SET default_transaction_read_only = on` and a
///   reload (skipped when already on), then every other client backend is terminated, then
///   a new connection must show `default_transaction_read_only = on`.
/// - Unreachable servers, refused connections and timeouts are retryable; refused
///   credentials, an unknown database or an SQL permission error are permanent. No error or
///   report contains the DSN's password.
public struct PostgresAction: ActionPlugin {
    private let poll: Duration
    private let logger: Logger

    /// Creates the plugin; `poll` is the interval of the drill's catch-up and of the fence's
    /// verification.
    public init(poll: Duration = .milliseconds(50), logger: Logger = Logger(label: "failoverctl.actions.postgres")) {
        self.poll = poll
        self.logger = logger
    }

    /// Promotes or fences once; see the type's guarantees.
    public func perform(_ request: ActionRequest) async throws -> ActionReport {
        guard case .plugin(.postgres(let options)) = request.step.action else {
            throw ActionError.permanent("the postgres plugin cannot run \(request.step.summary)")
        }
        let job = PostgresJob(
            options: options, drill: request.context.drill, force: request.context.force, poll: poll,
            timeout: request.timeout)
        let report: ActionReport
        do {
            switch request.step.kind {
            case .promote: report = try await PGClient.run(dsn: options.dsn, timeout: request.timeout, job.promote)
            case .fence: report = try await PGClient.run(dsn: options.dsn, timeout: request.timeout, job.fence)
            default: throw ActionError.permanent("the postgres plugin performs fence and promote, not \(request.step.kind)")
            }
        } catch let error as PGError {
            throw job.actionError(error)
        }
        logger.debug("postgres \(job.target): \(report.changed.joined(separator: "; "))")
        return report
    }
}

/// One attempt's inputs, shared by the promote and fence work on the libpq thread.
struct PostgresJob: Sendable {
    let options: PostgresOptions
    let drill: Bool
    let force: Bool
    let poll: Duration
    let timeout: Duration

    /// The server as it may be shown (password removed).
    var target: String { PostgresDSN.redacted(options.dsn) }

    /// `error` as an `ActionError` whose text names the server and holds no password.
    func actionError(_ error: PGError) -> ActionError {
        let text = Redaction.scrub(error.description, secrets: PostgresDSN.secrets(options.dsn))
        switch error.kind {
        case .authentication: return .permanent("PostgreSQL at \(target) refused the credentials: \(text)")
        case .rejected: return .permanent("PostgreSQL at \(target) refused the connection: \(text)")
        case .unreachable: return .failed("cannot reach PostgreSQL at \(target): \(text)", retryable: true)
        case .timedOut: return .timedOut(after: timeout, detail: "PostgreSQL at \(target): \(text)")
        case .cancelled: return .failed("cancelled: \(text)", retryable: true)
        case .query: return .failed("PostgreSQL at \(target): \(text)", retryable: error.isRetryable)
        }
    }
}
