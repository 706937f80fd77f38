/// How far a replica is behind its primary.
public struct ReplicationLag: Sendable, Equatable, Codable {
    /// Bytes of WAL (or equivalent) not yet replayed, when known.
    public var bytes: Int64?
    /// Seconds since the last replayed transaction, when known.
    public var seconds: Double?

    /// Creates a lag.
    public init(bytes: Int64? = nil, seconds: Double? = nil) {
        self.bytes = bytes
        self.seconds = seconds
    }

    /// `0 B, 0.0 s` style text; `unknown` parts are left out.
    public var text: String {
        let parts = [bytes.map { "\($0) B" }, seconds.map { String(format: "%.1f s", $0) }].compactMap { $0 }
        return parts.isEmpty ? "unknown" : parts.joined(separator: ", ")
    }
}

/// What the decision logic knows of one site at one instant.
public struct SiteSnapshot: Sendable, Equatable {
    /// The site.
    public var name: String
    /// The quorum verdict.
    public var verdict: Verdict
    /// When the quorum verdict last changed.
    public var since: Timestamp?
    /// The last passing probe round before the current failing streak.
    public var lastOK: Timestamp?
    /// The first failed probe round of the streak that made the verdict down.
    public var firstFail: Timestamp?
    /// The mean total probe time of the last round, in milliseconds.
    public var latencyMs: Double?
    /// Replication lag, when a check reports it.
    public var lag: ReplicationLag?
    /// The last successful `postgres` check's reading of the site's database (kept while
    /// later checks fail: the old primary's last position is the RPO's reference).
    public var database: DatabaseObservation?
    /// When `database` was read.
    public var databaseSeenAt: Timestamp?

    /// Creates a site snapshot.
    public init(
        name: String, verdict: Verdict, since: Timestamp? = nil, lastOK: Timestamp? = nil, firstFail: Timestamp? = nil,
        latencyMs: Double? = nil, lag: ReplicationLag? = nil, database: DatabaseObservation? = nil,
        databaseSeenAt: Timestamp? = nil
    ) {
        self.database = database
        self.databaseSeenAt = databaseSeenAt
        self.name = name
        self.verdict = verdict
        self.since = since
        self.lastOK = lastOK
        self.firstFail = firstFail
        self.latencyMs = latencyMs
        self.lag = lag
    }
}

/// The immutable view one decision is made on: every site's quorum verdict, whether this
/// controller may act, and the time.
public struct WorldSnapshot: Sendable, Equatable {
    /// The instant of the snapshot.
    public var at: Timestamp
    /// Whether this controller is the quorate leader (may act).
    public var canAct: Bool
    /// Why it may not, for refusals.
    public var whyNot: String?
    /// Every site by name.
    public var sites: [String: SiteSnapshot]
    /// Votes needed for a quorum verdict, and members, for messages.
    public var needed: Int
    /// Voting members.
    public var members: Int

    /// Creates a snapshot.
    public init(
        at: Timestamp, canAct: Bool = true, whyNot: String? = nil, sites: [SiteSnapshot], needed: Int = 1,
        members: Int = 1
    ) {
        self.at = at
        self.canAct = canAct
        self.whyNot = whyNot
        self.sites = Dictionary(sites.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        self.needed = needed
        self.members = members
    }

    /// The site called `name`, or an `unknown` one when the snapshot lacks it.
    public func site(_ name: String) -> SiteSnapshot { sites[name] ?? SiteSnapshot(name: name, verdict: .unknown) }
}
