import FailoverCore
import PGWire

extension PostgresJob {
    /// Promotes the replica behind `session` (blocking, on the libpq thread); see
    /// `PostgresAction`.
    @Sendable func promote(_ session: PGSession) throws -> ActionReport {
        var state = try session.serverState()
        guard state.inRecovery else {
            let writable = try makeWritable(session)
            return ActionReport(changed: ["\(target) is already primary (\(try timeline(session)))"] + writable)
        }
        if drill { state = try waitForZeroLag(session, start: state) }
        let lag = ReplicationLag(bytes: state.lagBytes, seconds: state.lagSeconds)
        if let maxLag = options.maxLag, state.lagBytes > maxLag, !force {
            throw ActionError.permanent(
                "refusing to promote \(target): it lags \(state.lagBytes) B behind what it received, above max_lag \(maxLag) B (force to override)")
        }
        let seconds = max(1, Int(min(options.promoteTimeout, timeout).components.seconds))
        guard try session.value("SELECT pg_promote(true, \(seconds))") == "t" else {
            throw ActionError.failed("pg_promote on \(target) did not finish within \(seconds) s", retryable: true)
        }
        guard try session.value("SELECT pg_is_in_recovery()") == "f" else {
            throw ActionError.failed("\(target) is still in recovery after pg_promote", retryable: true)
        }
        let forced = force && (options.maxLag.map { state.lagBytes > $0 } ?? false) ? ", forced above max_lag" : ""
        let writable = try makeWritable(session)
        return ActionReport(
            changed: ["promoted \(target) to primary on \(try timeline(session)) (lag \(lag.text)\(forced))"] + writable,
            lag: lag)
    }

    /// A primary must take writes: a read-only setting left by an earlier fence (it survives
    /// in `postgresql.auto.conf`, and a base backup copies it) is reset and reloaded.
    private func makeWritable(_ session: PGSession) throws -> [String] {
        guard try session.value("SHOW default_transaction_read_only") == "on" else { return [] }
        _ = try session.rows("ALTER SYSTEM RESET default_transaction_read_only")
        _ = try session.rows("SELECT pg_reload_conf()")
        return ["reset the read-only fence left on \(target)"]
    }

    /// Polls until replay has caught up with what was received, the WAL receiver streams,
    /// and replay has reached the end of WAL the primary last reported (a planned drill
    /// loses no data: a replica cut off from its primary never counts as caught up); the
    /// deadline of the run bounds the wait.
    private func waitForZeroLag(_ session: PGSession, start: PGServerState) throws -> PGServerState {
        var state = start
        while try state.lagBytes > 0 || !caughtUpWithPrimary(session) {
            try session.pause(poll)
            state = try session.serverState()
        }
        return state
    }

    /// Whether the WAL receiver streams and replay has reached the primary's last reported
    /// end of WAL (`pg_stat_wal_receiver.latest_end_lsn`).
    private func caughtUpWithPrimary(_ session: PGSession) throws -> Bool {
        let sql = """
            SELECT status = 'streaming' AND latest_end_lsn IS NOT NULL
              AND pg_wal_lsn_diff(latest_end_lsn, pg_last_wal_replay_lsn()) <= 0
            FROM pg_stat_wal_receiver
            """
        return try session.value(sql) == "t"
    }

    /// `timeline N`, from the current WAL file name's first 8 hex digits.
    private func timeline(_ session: PGSession) throws -> String {
        let sql = "SELECT substr(pg_walfile_name(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END), 1, 8)"
        guard let hex = try session.value(sql), let number = Int(hex, radix: 16) else { return "an unknown timeline" }
        return "timeline \(number)"
    }
}
