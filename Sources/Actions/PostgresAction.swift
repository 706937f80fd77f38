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
/// - `promote` promotes only a replica of the group's current primary (the old primary:
///   read live when it answers, else as the `postgres` check last saw it): same system
///   identifier, in recovery, on the old primary's timeline. "Already primary" is success
///   only for a server promoted from a replica of the old primary (a re-run after the
///   promotion took effect); any other primary is refused, permanently, with the reason.
/// - Lossless when the old primary answers and is fenced: `promote` reads its final WAL
///   position and waits until the target has replayed up to it (a drill waits as long as
///   its timeout allows; an unplanned failover at most `catchUp`). A drill whose old primary
///   does not answer, or still takes writes, is refused (retryable).
/// - The RPO is the data at risk: the old primary's last position minus what the target
///   received, in bytes, with the age of that position (0 s when read live); above
///   `max_lag` `promote` refuses (permanently) unless the run is forced. Replay delay is
///   reported apart: promotion replays what was received.
/// - After `pg_promote`, the new primary is made writable: the read-only setting and the
///   `fence_roles` logins an earlier fence left (replicated with the catalog) are undone.
/// - `fence` is idempotent: revokes LOGIN from `fence_roles` (marking each role so a
///   promotion restores exactly those), `ALTER SYSTEM SET default_transaction_read_only =
///   on` and a reload, terminates every other client session, then a new connection must
///   show the server read-only. A server in recovery is already fenced.
/// - Unreachable servers, refused connections and timeouts are retryable; refused
///   credentials, an unknown database or an SQL permission error are permanent. No error or
///   report contains the DSN's password.
public struct PostgresAction: ActionPlugin {
    /// The old primary's last reading by the `postgres` check, and when (nil when unknown).
    public typealias LastSeen = @Sendable (_ site: String) async -> (observation: DatabaseObservation, at: Timestamp)?

    let poll: Duration
    private let catchUp: Duration
    private let lastSeen: LastSeen
    private let wallClock: any WallClock
    /// Times the host commands and paces the polling of `rejoin` and `mode: stop`.
    let clock: any Clock<Duration>
    private let logger: Logger

    /// Creates the plugin. `poll` is the interval of the catch-up and fence verification
    /// loops; `catchUp` bounds an unplanned promotion's wait for a reachable fenced old
    /// primary's last WAL; `lastSeen` gives what the checks last read of a site's database.
    public init(
        poll: Duration = .milliseconds(20), catchUp: Duration = .seconds(5), lastSeen: @escaping LastSeen = { _ in nil },
        wallClock: any WallClock = SystemWallClock(), clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "failoverctl.actions.postgres")
    ) {
        self.clock = clock
        self.poll = poll
        self.catchUp = catchUp
        self.lastSeen = lastSeen
        self.wallClock = wallClock
        self.logger = logger
    }

    /// Promotes or fences once; see the type's guarantees.
    public func perform(_ request: ActionRequest) async throws -> ActionReport {
        guard case .plugin(.postgres(let options)) = request.step.action else {
            throw ActionError.permanent("the postgres plugin cannot run \(request.step.summary)")
        }
        let job = PostgresJob(
            options: options, context: request.context, poll: poll, catchUp: catchUp, timeout: request.timeout)
        let report: ActionReport
        do {
            switch request.step.kind {
            case .promote:
                let old = await oldPrimary(request)
                let seen = await lastSeen(request.context.to)?.observation
                report = try await PGClient.run(dsn: options.dsn, timeout: request.timeout) {
                    try job.promote($0, old: old, targetSeen: seen)
                }
            case .fence where options.mode == .stop: report = try await fenceByStopping(request, options: options)
            case .fence: report = try await PGClient.run(dsn: options.dsn, timeout: request.timeout, job.fence)
            case .rejoin: report = try await rejoin(request, options: options)
            default:
                throw ActionError.permanent("the postgres plugin performs fence, promote and rejoin, not \(request.step.kind)")
            }
        } catch let error as PGError {
            throw job.actionError(error)
        }
        logger.debug("postgres \(job.target): \(report.changed.joined(separator: "; "))")
        return report
    }

    /// The old primary as a promotion judges it: read live through its own `postgres`
    /// action when it answers within a short bound, and as the checks last saw it.
    private func oldPrimary(_ request: ActionRequest) async -> OldPrimary {
        var old = OldPrimary(name: request.context.from)
        if let seen = await lastSeen(request.context.from) {
            old.lastSeen = seen.observation
            old.lastSeenAge = wallClock.now().since(seen.at)
        }
        guard case .postgres(let options)? = request.step.peer else {
            old.liveError = "\(old.name) has no postgres action to read it with"
            return old
        }
        old.dsn = options.dsn
        let bound = min(request.timeout / 4, request.context.drill ? .seconds(3) : .seconds(1))
        do {
            old.live = try await PGClient.run(dsn: options.dsn, timeout: bound) { try $0.serverState() }
        } catch let error as PGError {
            old.liveError = error.shown(dsn: options.dsn)
        } catch {
            old.liveError = "not read: \(error)"
        }
        // Only where a clean stop is expected: a drill, or a fence that stops the server.
        if old.live == nil, let host = options.host, request.context.drill || options.mode == .stop {
            old.stopped = await shutDownState(host, bound: bound)
        }
        return old
    }
}

/// What a promotion knows of the old primary.
struct OldPrimary: Sendable {
    /// Its site.
    var name: String
    /// Its `postgres` action's DSN, when it has one.
    var dsn: String?
    /// Read just now, when it answered.
    var live: PGServerState?
    /// Why it could not be read live.
    var liveError: String?
    /// Read from its control file on its host when it was shut down cleanly (a `mode: stop`
    /// fence): its final position is its shutdown checkpoint.
    var stopped: DatabaseObservation?
    /// As the `postgres` check last saw it.
    var lastSeen: DatabaseObservation?
    /// How long ago the check saw it.
    var lastSeenAge: Duration?

    /// The best reading: live, else its control file's, else the check's.
    var observation: DatabaseObservation? { live?.observation ?? stopped ?? lastSeen }
}

/// One attempt's inputs, shared by the promote and fence work on the libpq thread.
struct PostgresJob: Sendable {
    let options: PostgresOptions
    let context: RunContext
    let poll: Duration
    let catchUp: Duration
    let timeout: Duration

    var drill: Bool { context.drill }
    var force: Bool { context.force }

    /// The server as it may be shown (password removed).
    var target: String { PostgresDSN.redacted(options.dsn) }

    /// `error` as an `ActionError` whose text names the server and holds no password.
    func actionError(_ error: PGError) -> ActionError {
        let text = error.shown(dsn: options.dsn)
        switch error.kind {
        case .authentication: return .permanent("PostgreSQL at \(target) refused the credentials: \(text)")
        case .rejected: return .permanent("PostgreSQL at \(target) refused the connection: \(text)")
        case .unreachable: return .failed("cannot reach PostgreSQL at \(target): \(text)", retryable: true)
        case .timedOut: return .timedOut(after: timeout, detail: "PostgreSQL at \(target): \(text)")
        case .cancelled: return .failed("cancelled: \(text)", retryable: true)
        case .query: return .failed("PostgreSQL at \(target): \(text)", retryable: error.isRetryable)
        }
    }

    /// `name` quoted as an SQL identifier.
    static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `text` quoted as an SQL string literal.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
