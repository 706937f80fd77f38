import FailoverCore
import PGWire

extension PostgresJob {
    /// Fences the server behind `session` (blocking, on the libpq thread); see
    /// `PostgresAction`.
    @Sendable func fence(_ session: PGSession) throws -> ActionReport {
        let state = try session.serverState()
        guard !state.inRecovery else {
            return ActionReport(changed: ["\(target) is a replica (in recovery): it takes no writes, nothing to fence"])
        }
        // This session writes the fence itself, also when an earlier attempt left the
        // server read-only.
        _ = try session.rows("SET default_transaction_read_only = off")
        var changed = try revokeLogins(session)
        if state.readOnly {
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

    /// Revokes LOGIN from each of `fence_roles` that has it, marking the role with
    /// `failoverctl.fenced` so that a promotion or rejoin restores exactly these.
    private func revokeLogins(_ session: PGSession) throws -> [String] {
        var changed: [String] = []
        for role in options.fenceRoles {
            let login = try session.value("SELECT rolcanlogin FROM pg_roles WHERE rolname = \(Self.literal(role))")
            guard let login else {
                throw ActionError.permanent("fence_roles names \(role), which is not a role on \(target)")
            }
            guard login == "t" else { continue }
            let name = Self.identifier(role)
            let mark = Self.literal("epoch \(context.epoch) \(context.incident)")
            _ = try session.rows(
                "ALTER ROLE \(name) NOLOGIN; ALTER ROLE \(name) SET \(PGServerState.fenceMarker) = \(mark)")
            changed.append("revoked LOGIN from role \(role)")
        }
        return changed
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

    /// Undoes on a new primary what a fence left: the read-only setting (it survives in
    /// `postgresql.auto.conf`, and a base backup copies it) and the revoked logins of roles
    /// carrying the fence's mark (the catalog replicates them).
    func undoFence(_ session: PGSession, state: PGServerState) throws -> [String] {
        var changed: [String] = []
        let readOnly = try session.value("SHOW default_transaction_read_only") == "on"
        if state.readOnly || readOnly {
            _ = try session.rows("SET default_transaction_read_only = off")
            _ = try session.rows("ALTER SYSTEM RESET default_transaction_read_only")
            _ = try session.rows("SELECT pg_reload_conf()")
            changed.append("reset the read-only fence left on \(target)")
        }
        let fenced = try session.serverState().fencedRoles
        for role in fenced {
            let name = Self.identifier(role)
            _ = try session.rows(
                "SET default_transaction_read_only = off; ALTER ROLE \(name) LOGIN; ALTER ROLE \(name) RESET \(PGServerState.fenceMarker)")
            changed.append("restored LOGIN of role \(role)")
        }
        return changed
    }
}
