import FailoverCore
import Foundation
import PGWire

/// `rejoin` and `fence` with `mode: stop`: the work done on the database's host.
extension PostgresAction {
    /// Turns the old primary behind `options` into a streaming replica of the new primary
    /// (`source`): stop it, `pg_rewind --write-recovery-conf` from the new primary (a no-op
    /// rewind when it never diverged), start it, and wait until it streams on the new
    /// primary's timeline. Idempotent: a server already streaming from the new primary's
    /// timeline is left alone. A failed rewind leaves the server stopped (never a second
    /// writable primary).
    func rejoin(_ request: ActionRequest, options: PostgresOptions) async throws -> ActionReport {
        let site = request.step.site ?? request.context.from
        guard let host = options.host else {
            throw ActionError.permanent("rejoin of \(site) needs a host block on its postgres action")
        }
        guard case .postgres(let source)? = request.step.peer else {
            throw ActionError.permanent("rejoin of \(site) needs the new primary's postgres action")
        }
        let deadline = ContinuousClock.now.advanced(by: request.timeout)
        let to = request.context.to
        let primary = try await readNewPrimary(source, name: to)
        let me = try? await PGClient.run(dsn: options.dsn, timeout: .seconds(2)) { try $0.serverState() }
        if let me, me.observation.systemIdentifier != primary.observation.systemIdentifier {
            throw ActionError.permanent(
                "cannot rejoin \(site): its database (system \(me.observation.systemIdentifier)) is not of \(to)'s system \(primary.observation.systemIdentifier)")
        }
        if let me, me.inRecovery, me.observation.streaming, me.observation.timeline == primary.observation.timeline {
            return ActionReport(changed: ["\(site) is already a streaming replica of \(to) on timeline \(me.observation.timeline)"])
        }
        let command = HostCommand(host: host, clock: clock)
        var changed = [try await stop(command, options: options, site: site, deadline: deadline)]
        if primary.checkpointTimeline < primary.observation.timeline {
            changed.append(try await checkpoint(source, name: to))
        }
        changed.append(try await rewind(command, source: source, site: site, to: to, deadline: deadline))
        _ = try await command.run(host.start, timeout: remaining(deadline))
        changed.append("started \(site)")
        let streaming = try await waitUntilStreaming(options.dsn, timeline: primary.observation.timeline, deadline: deadline)
        changed.append(
            "\(site) streams from \(to) as a replica on timeline \(streaming.observation.timeline), received up to \(streaming.observation.position?.description ?? "?")")
        return ActionReport(changed: changed)
    }

    /// `fence` in `mode: stop`: the server stopped on its host; it is fenced once it no
    /// longer accepts connections.
    func fenceByStopping(_ request: ActionRequest, options: PostgresOptions) async throws -> ActionReport {
        let site = request.step.site ?? request.context.from
        guard let host = options.host else { throw ActionError.permanent("mode stop needs a host block") }
        let deadline = ContinuousClock.now.advanced(by: request.timeout)
        let sentence = try await stop(HostCommand(host: host, clock: clock), options: options, site: site, deadline: deadline)
        return ActionReport(changed: [sentence])
    }

    /// A cleanly shut down server as its control file (`pg_controldata`, beside `pg_rewind`
    /// on its host) describes it: its final WAL position is its shutdown checkpoint. Nil when
    /// it was not shut down cleanly (a crash: its final position is unknown) or cannot be read.
    func shutDownState(_ host: DatabaseHost, bound: Duration) async -> DatabaseObservation? {
        let tool = (host.pgRewind as NSString).deletingLastPathComponent + "/pg_controldata"
        guard let output = try? await HostCommand(host: host, clock: clock).run(["env", "LC_ALL=C", tool, "-D", host.dataDirectory], timeout: bound)
        else { return nil }
        var fields: [String: String] = [:]
        for line in output.stdout.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard fields["Database cluster state"] == "shut down", let system = fields["Database system identifier"],
            let timeline = fields["Latest checkpoint's TimeLineID"].flatMap({ Int($0) }),
            let position = fields["Latest checkpoint location"].flatMap(WALPosition.init)
        else { return nil }
        return DatabaseObservation(systemIdentifier: system, timeline: timeline, role: .fencedPrimary, position: position)
    }

    /// The new primary as read now: it must answer and take writes.
    private func readNewPrimary(_ source: PostgresOptions, name: String) async throws -> PGServerState {
        let state: PGServerState
        do {
            state = try await PGClient.run(dsn: source.dsn, timeout: .seconds(3)) { try $0.serverState() }
        } catch let error as PGError {
            throw ActionError.failed("cannot read the new primary \(name): \(error.shown(dsn: source.dsn))", retryable: true)
        }
        guard state.observation.writable else {
            throw ActionError.failed(
                "the new primary \(name) is not a writable primary yet (\(state.observation.summary))", retryable: true)
        }
        return state
    }

    /// A promoted server's control file names its new timeline only after its first
    /// checkpoint, and until then `pg_rewind` takes both servers for one timeline ("no
    /// rewind required") and the rejoined server cannot follow: so the new primary is made
    /// to checkpoint first when it has not since its promotion.
    private func checkpoint(_ source: PostgresOptions, name: String) async throws -> String {
        do {
            _ = try await PGClient.run(dsn: source.dsn, timeout: .seconds(30)) { try $0.rows("CHECKPOINT") }
        } catch let error as PGError {
            throw ActionError.failed("cannot checkpoint the new primary \(name): \(error.shown(dsn: source.dsn))", retryable: true)
        }
        return "checkpointed \(name) so that its control file shows its new timeline"
    }

    /// Stops the server with the host's `stop` command and waits until it refuses
    /// connections; a server already down counts as stopped.
    private func stop(_ command: HostCommand, options: PostgresOptions, site: String, deadline: ContinuousClock.Instant)
        async throws -> String
    {
        let host = command.host
        do {
            _ = try await command.run(host.stop, timeout: remaining(deadline))
        } catch {
            // A server already down makes the stop command fail: that is stopped too.
            guard error.isRetryable, !(await answers(options.dsn)) else { throw error }
            return "\(site)'s server was already stopped"
        }
        while await answers(options.dsn) {
            guard ContinuousClock.now < deadline else {
                throw ActionError.timedOut(after: .zero, detail: "\(site)'s server still accepts connections after stop")
            }
            try await clock.sleep(for: poll)
        }
        return "stopped \(site)'s server (\(ExecAction.displayName(host.stop)))"
    }

    /// Whether a server answers at `dsn` (accepts a connection).
    private func answers(_ dsn: String) async -> Bool {
        (try? await PGClient.run(dsn: dsn, timeout: .seconds(1)) { try $0.value("SELECT 1") }) != nil
    }

    /// `pg_rewind` from the new primary, writing `standby.signal` and `primary_conninfo`.
    private func rewind(
        _ command: HostCommand, source: PostgresOptions, site: String, to: String, deadline: ContinuousClock.Instant
    ) async throws -> String {
        let host = command.host
        guard let conninfo = PGDSN.withoutPassword(source.primaryConninfo ?? source.dsn) else {
            throw ActionError.permanent("the new primary \(to)'s connection string does not parse")
        }
        let argv = [
            host.pgRewind, "--target-pgdata=\(host.dataDirectory)", "--source-server=\(conninfo)", "--write-recovery-conf",
        ]
        do {
            let output = try await command.run(argv, timeout: remaining(deadline))
            let text = output.stdout + output.stderr
            return text.contains("no rewind required")
                ? "\(site) never diverged from \(to): no rewind needed, recovery settings written"
                : "rewound \(site) from \(to) with pg_rewind and wrote its recovery settings"
        } catch {
            let why = error.description
            if why.contains("wal_log_hints") || why.contains("data checksums") {
                throw ActionError.permanent(
                    "cannot rejoin \(site): pg_rewind needs wal_log_hints = on or data checksums on \(site), which has neither; \(site) stays stopped (fenced). Rebuild it from \(to) with pg_basebackup, and turn wal_log_hints on")
            }
            if why.contains("could not find previous WAL record") || why.contains("could not open file") {
                throw ActionError.permanent(
                    "cannot rejoin \(site): pg_rewind needs \(site)'s WAL back to where it diverged from \(to), and it is gone (\(why)); \(site) stays stopped (fenced). Keep more WAL (wal_keep_size, or a restore_command) and rebuild it from \(to) with pg_basebackup")
            }
            throw ActionError.failed("pg_rewind of \(site) from \(to) failed (\(site) stays stopped): \(why)", retryable: error.isRetryable)
        }
    }

    /// Polls the restarted server until it is in recovery and streams on `timeline`.
    private func waitUntilStreaming(_ dsn: String, timeline: Int, deadline: ContinuousClock.Instant) async throws
        -> PGServerState
    {
        while true {
            if let state = try? await PGClient.run(dsn: dsn, timeout: .seconds(1), { try $0.serverState() }),
                state.inRecovery, state.observation.streaming, state.observation.timeline == timeline
            {
                return state
            }
            guard ContinuousClock.now < deadline else {
                throw ActionError.timedOut(after: .zero, detail: "the rejoined server does not stream on timeline \(timeline)")
            }
            try await clock.sleep(for: poll)
        }
    }

    private func remaining(_ deadline: ContinuousClock.Instant) -> Duration {
        max(ContinuousClock.now.duration(to: deadline), .milliseconds(1))
    }
}
