import FailoverCore
import PGWire

extension PostgresJob {
    /// Fences the server behind `session` (blocking, on the libpq thread); see
    /// `PostgresAction`.
    @Sendable func fence(_ session: PGSession) throws -> ActionReport {
        var changed: [String] = []
        if try session.value("SHOW default_transaction_read_only") == "on" {
            changed.append("\(target) was already read-only")
        } else {
            _ = try session.rows("ALTER SYSTEM SET default_transaction_read_only = on")
            _ = try session.rows("SELECT pg_reload_conf()")
            changed.append("set \(target) read-only (default_transaction_read_only = on, reloaded)")
        }
        let sql = """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
            """
        let terminated = Int(try session.value(sql) ?? "0") ?? 0
        changed.append(terminated == 1 ? "terminated 1 client session" : "terminated \(terminated) client sessions")
        try verifyReadOnly(session)
        return ActionReport(changed: changed)
    }

    /// Polls new connections until one shows `default_transaction_read_only = on` (the
    /// postmaster applies the reload asynchronously); the run's deadline bounds it.
    private func verifyReadOnly(_ session: PGSession) throws {
        while true {
            let fresh = try session.reconnect()
            defer { fresh.close() }
            if try fresh.value("SHOW default_transaction_read_only") == "on" { return }
            try session.pause(poll)
        }
    }
}
