/// A PostgreSQL WAL position (an LSN such as `0/3000060`): a byte offset in the WAL stream.
public struct WALPosition: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The byte offset.
    public var offset: UInt64

    /// Creates a position from its byte offset.
    public init(_ offset: UInt64) { self.offset = offset }

    /// Parses PostgreSQL's `X/Y` text (two hexadecimal halves); nil when malformed.
    public init?(_ text: String) {
        let halves = text.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, let high = UInt64(halves[0], radix: 16), let low = UInt64(halves[1], radix: 16),
            high <= UInt64(UInt32.max), low <= UInt64(UInt32.max)
        else { return nil }
        offset = high << 32 | low
    }

    /// PostgreSQL's `X/Y` text.
    public var description: String {
        String(offset >> 32, radix: 16, uppercase: true) + "/" + String(offset & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    /// Bytes from `other` up to this position (0 when `other` is at or past it).
    public func bytes(after other: WALPosition) -> Int64 {
        offset > other.offset ? Int64(clamping: offset - other.offset) : 0
    }

    public static func < (a: WALPosition, b: WALPosition) -> Bool { a.offset < b.offset }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let position = WALPosition(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an LSN: \(text)"))
        }
        self = position
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// What a `postgres` check (or a plugin) read of one PostgreSQL server: its identity, its
/// role, how it is fenced and where its WAL stands.
public struct DatabaseObservation: Sendable, Equatable, Codable {
    /// The server's role as far as failover is concerned.
    public enum Role: String, Sendable, Equatable, Codable {
        /// Not in recovery and taking writes.
        case primary
        /// Not in recovery but fenced (read-only by default, or its application roles'
        /// logins revoked): no application can write.
        case fencedPrimary = "fenced_primary"
        /// In recovery (a standby).
        case replica
    }

    /// `pg_control_system().system_identifier`: equal on a primary and all its replicas.
    public var systemIdentifier: String
    /// The timeline the server writes (primary) or receives (replica).
    public var timeline: Int
    /// Primary or replica, fenced or not.
    public var role: Role
    /// Primary: `pg_current_wal_lsn()`. Replica: the furthest WAL position it has, received
    /// by streaming or replayed from its own `pg_wal`, which survives a promotion; nil when
    /// it has none.
    public var position: WALPosition?
    /// Replica: the last WAL position replayed.
    public var replayed: WALPosition?
    /// Replica: whether its WAL receiver streams right now.
    public var streaming: Bool
    /// Replica: `host:port` its WAL receiver streams from.
    public var upstream: String?
    /// Primary: how many replicas stream from it (`pg_stat_replication`).
    public var streamingReplicas: Int

    /// Creates an observation.
    public init(
        systemIdentifier: String, timeline: Int, role: Role, position: WALPosition?, replayed: WALPosition? = nil,
        streaming: Bool = false, upstream: String? = nil, streamingReplicas: Int = 0
    ) {
        self.systemIdentifier = systemIdentifier
        self.timeline = timeline
        self.role = role
        self.position = position
        self.replayed = replayed
        self.streaming = streaming
        self.upstream = upstream
        self.streamingReplicas = streamingReplicas
    }

    /// This reading, with the timeline taken from `earlier` when this is a replica no longer
    /// streaming and `earlier` saw the same system as a replica on a later timeline: a
    /// replica never goes back to an older timeline, but without its WAL receiver it only
    /// shows the timeline of its last restartpoint, which can lag the one it follows.
    public func keepingTimeline(of earlier: DatabaseObservation?) -> DatabaseObservation {
        guard let earlier, role == .replica, !streaming, earlier.role == .replica,
            earlier.systemIdentifier == systemIdentifier, earlier.timeline > timeline
        else { return self }
        var kept = self
        kept.timeline = earlier.timeline
        return kept
    }

    /// Whether applications can write to it: a primary that is not fenced.
    public var writable: Bool { role == .primary }

    /// `primary on timeline 2 at 0/3000060`, `replica of 127.0.0.1:5432 (streaming) on timeline 1, received 0/30000D8`.
    public var summary: String {
        let at = position.map { " at \($0)" } ?? ""
        switch role {
        case .primary: return "primary on timeline \(timeline)\(at)"
        case .fencedPrimary: return "fenced primary on timeline \(timeline)\(at)"
        case .replica:
            let of = upstream.map { " of \($0)" } ?? ""
            let received = position.map { ", received \($0)" } ?? ""
            return "replica\(of) (\(streaming ? "streaming" : "not streaming")) on timeline \(timeline)\(received)"
        }
    }

    enum CodingKeys: String, CodingKey {
        case timeline, role, position, replayed, streaming, upstream
        case systemIdentifier = "system_identifier"
        case streamingReplicas = "streaming_replicas"
    }
}

/// Whether a server may be promoted to replace a group's primary: the rules shared by the
/// election and the `postgres` plugin.
public enum DatabaseEligibility {
    /// Why `candidate` is no replica of `primary` (the group's current primary as last
    /// observed), or nil when it is one: same system, a standby, on the primary's
    /// timeline or ahead of what it last saw of it.
    public static func refusal(_ candidate: DatabaseObservation, primary: DatabaseObservation?, primaryName: String)
        -> String?
    {
        if let primary, candidate.systemIdentifier != primary.systemIdentifier {
            return "its database (system \(candidate.systemIdentifier)) is not a replica of \(primaryName)'s (system \(primary.systemIdentifier))"
        }
        guard candidate.role == .replica else {
            return "its database is a \(candidate.summary), not a replica of \(primaryName): rejoin it first"
        }
        if let primary, candidate.timeline < primary.timeline {
            return "its database is a replica on timeline \(candidate.timeline), behind \(primaryName)'s timeline \(primary.timeline): rejoin it first"
        }
        return nil
    }
}
