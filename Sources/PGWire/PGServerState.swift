import FailoverCore

/// A server as one query reads it: its identity, role, fence, WAL positions and, for a
/// replica, how far replay trails what it received.
public struct PGServerState: Sendable, Equatable {
    /// What failover needs to know of the server (identity, role, positions).
    public var observation: DatabaseObservation
    /// `pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())`: WAL bytes
    /// received but not replayed (0 on a primary, never negative). Replay delay, not loss:
    /// a promotion replays all of it.
    public var lagBytes: Int64
    /// Seconds since the last replayed transaction while WAL waits to be replayed; 0 when
    /// nothing waits (a primary, a caught-up replica).
    public var lagSeconds: Double
    /// `default_transaction_read_only` as a new session gets it.
    public var readOnly: Bool
    /// Roles whose LOGIN a `fence` revoked (they carry the `failoverctl.fenced` setting).
    public var fencedRoles: [String]
    /// The timeline of the last checkpoint in the control file: after a promotion it stays
    /// the old one until the first checkpoint (and `pg_rewind` reads it from there).
    public var checkpointTimeline: Int

    /// `pg_is_in_recovery()`: true on a replica (standby), false on a primary.
    public var inRecovery: Bool { observation.role == .replica }

    /// `primary`, `fenced_primary` or `replica`.
    public var role: String { observation.role.rawValue }

    /// Creates a state.
    public init(
        observation: DatabaseObservation, lagBytes: Int64 = 0, lagSeconds: Double = 0, readOnly: Bool = false,
        fencedRoles: [String] = [], checkpointTimeline: Int? = nil
    ) {
        self.checkpointTimeline = checkpointTimeline ?? observation.timeline
        self.observation = observation
        self.lagBytes = lagBytes
        self.lagSeconds = lagSeconds
        self.readOnly = readOnly
        self.fencedRoles = fencedRoles
    }

    /// The setting a `fence` leaves on each role whose LOGIN it revoked, so that a
    /// promotion or rejoin undoes exactly that and nothing else.
    public static let fenceMarker = "failoverctl.fenced"

    /// One query reading everything (PostgreSQL 13 and later). The timeline of a primary
    /// comes from its current WAL file name; a replica's is the highest its WAL receiver, its
    /// last restartpoint and its minimum recovery point show. Without a running receiver
    /// (its primary is gone) that can lag behind the timeline it follows until its next
    /// restartpoint: readers keep the higher timeline they saw it stream on. A replica's position is the furthest of what it received by
    /// streaming and what it replayed: WAL read from its own `pg_wal` (after a restart or a
    /// rewind) is replayed without ever counting as received.
    static let query = """
        WITH r AS (SELECT status, received_tli, sender_host, sender_port FROM pg_stat_wal_receiver),
        s AS (SELECT pg_is_in_recovery() AS recovery)
        SELECT s.recovery,
          GREATEST(COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0), 0)::bigint,
          CASE WHEN NOT s.recovery OR pg_last_wal_receive_lsn() IS NULL
                 OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
               ELSE GREATEST(COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0), 0)
          END::float8,
          (pg_control_system()).system_identifier::text,
          CASE WHEN s.recovery THEN GREATEST((SELECT received_tli FROM r), (pg_control_checkpoint()).timeline_id,
                 (pg_control_recovery()).min_recovery_end_timeline)
               ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
          CASE WHEN s.recovery THEN GREATEST(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
               ELSE pg_current_wal_lsn() END::text,
          pg_last_wal_replay_lsn()::text,
          current_setting('default_transaction_read_only') = 'on',
          COALESCE((SELECT status = 'streaming' FROM r), false),
          (SELECT sender_host || ':' || sender_port FROM r),
          (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'),
          (SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles
             WHERE EXISTS (SELECT 1 FROM unnest(rolconfig) c WHERE c LIKE 'failoverctl.fenced=%')),
          (pg_control_checkpoint()).timeline_id
        FROM s
        """
}

extension PGSession {
    /// Reads the server's identity, role, fence and positions (`PGServerState.query`).
    public func serverState() throws(PGError) -> PGServerState {
        let row = try rows(PGServerState.query).first ?? []
        guard row.count == 13, let recovery = row[0], let bytes = row[1].flatMap({ Int64($0) }),
            let seconds = row[2].flatMap({ Double($0) }), let system = row[3], let timeline = row[4].flatMap({ Int($0) })
        else { throw PGError(.query, "unexpected answer to the server state query: \(row)") }
        let readOnly = row[7] == "t"
        let fencedRoles = row[11].map { $0.split(separator: ",").map(String.init) } ?? []
        let inRecovery = recovery == "t"
        let role: DatabaseObservation.Role =
            inRecovery ? .replica : (readOnly || !fencedRoles.isEmpty ? .fencedPrimary : .primary)
        let observation = DatabaseObservation(
            systemIdentifier: system, timeline: timeline, role: role, position: row[5].flatMap(WALPosition.init),
            replayed: inRecovery ? row[6].flatMap(WALPosition.init) : nil, streaming: row[8] == "t",
            upstream: row[9], streamingReplicas: Int(row[10] ?? "0") ?? 0)
        return PGServerState(
            observation: observation, lagBytes: bytes, lagSeconds: seconds, readOnly: readOnly, fencedRoles: fencedRoles,
            checkpointTimeline: row[12].flatMap { Int($0) })
    }
}
