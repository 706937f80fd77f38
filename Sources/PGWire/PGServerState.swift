/// A server's role and, for a replica, how far replay trails what it received.
public struct PGServerState: Sendable, Equatable {
    /// `pg_is_in_recovery()`: true on a replica (standby), false on a primary.
    public var inRecovery: Bool
    /// `pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())`: WAL bytes
    /// received but not replayed (0 on a primary, never negative).
    public var lagBytes: Int64
    /// Seconds since the last replayed transaction while WAL waits to be replayed; 0 when
    /// nothing waits (a primary, a caught-up replica).
    public var lagSeconds: Double

    /// `primary` or `replica`.
    public var role: String { inRecovery ? "replica" : "primary" }

    /// Creates a state.
    public init(inRecovery: Bool, lagBytes: Int64, lagSeconds: Double) {
        self.inRecovery = inRecovery
        self.lagBytes = lagBytes
        self.lagSeconds = lagSeconds
    }

    /// One query reading the role and the lag (PostgreSQL 10 and later).
    static let query = """
        SELECT pg_is_in_recovery(),
          GREATEST(COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0), 0)::bigint,
          CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() IS NULL
                 OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
               ELSE GREATEST(COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0), 0)
          END::float8
        """
}

extension PGSession {
    /// Reads the server's role and replay lag (`PGServerState.query`).
    public func serverState() throws(PGError) -> PGServerState {
        let row = try rows(PGServerState.query).first ?? []
        guard row.count == 3, let recovery = row[0], let bytes = row[1].flatMap({ Int64($0) }),
            let seconds = row[2].flatMap({ Double($0) })
        else { throw PGError(.query, "unexpected answer to the role and lag query: \(row)") }
        return PGServerState(inRecovery: recovery == "t", lagBytes: bytes, lagSeconds: seconds)
    }
}
