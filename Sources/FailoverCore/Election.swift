/// One site considered as a failover target, and why it is (not) eligible.
public struct Candidate: Sendable, Equatable, Codable {
    /// The site.
    public var site: String
    /// Its election priority (lower wins).
    public var priority: Int
    /// Its quorum verdict.
    public var verdict: Verdict
    /// Its replication lag, when known.
    public var lag: ReplicationLag?
    /// Its last probe latency in milliseconds, when known.
    public var latencyMs: Double?
    /// Why it is not eligible; nil when it is.
    public var ineligible: String?

    enum CodingKeys: String, CodingKey {
        case site, priority, verdict, lag, ineligible
        case latencyMs = "latency_ms"
    }
}

/// The result of an election: the chosen target (if any) and every candidate considered.
public struct ElectionResult: Sendable, Equatable {
    /// The winner; nil when no candidate is eligible.
    public var target: String?
    /// Every candidate, best first.
    public var candidates: [Candidate]

    /// `west (priority 1), eu: down` style text of the candidates.
    public var summary: String {
        candidates.map { c in c.ineligible.map { "\(c.site): \($0)" } ?? "\(c.site) (priority \(c.priority))" }
            .joined(separator: ", ")
    }
}

/// Choosing the failover target (DESIGN.md, "Election"): among the group's other sites
/// whose quorum verdict is up, the lowest priority number, then the lowest replication lag
/// (a lag above `max_lag` makes a site ineligible unless forced), then the lowest latency.
public enum Election {
    /// Elects a target to move `group` away from `current`.
    public static func elect(_ group: GroupConfig, from current: String, in snapshot: WorldSnapshot, force: Bool = false)
        -> ElectionResult
    {
        let candidates = group.sites.filter { $0 != current }.map { name in
            candidate(name, group: group, snapshot: snapshot, force: force, primary: current)
        }
        let ranked = candidates.sorted(by: better)
        return ElectionResult(target: ranked.first { $0.ineligible == nil }?.site, candidates: ranked)
    }

    /// One site judged as a target of `group` replacing `primary` (the group's current
    /// primary). A site whose database is not a replica of the primary's is ineligible even
    /// when forced: promoting it would lose everything written since it diverged.
    public static func candidate(
        _ name: String, group: GroupConfig, snapshot: WorldSnapshot, force: Bool, primary: String
    ) -> Candidate {
        let site = snapshot.site(name)
        var why: String?
        if let database = site.database,
            let refusal = DatabaseEligibility.refusal(
                database, primary: snapshot.site(primary).database, primaryName: primary)
        {
            why = refusal
        } else if site.verdict != .up, !force {
            why = "verdict \(site.verdict.rawValue)"
        } else if let max = group.maxLagBytes, let bytes = site.lag?.bytes, bytes > max, !force {
            why = "lag \(bytes) B above max_lag \(max) B"
        }
        return Candidate(
            site: name, priority: group.priority(of: name) ?? Int.max, verdict: site.verdict, lag: site.lag,
            latencyMs: site.latencyMs, ineligible: why)
    }

    /// The ordering of candidates: eligible first, then priority, lag, latency, name.
    static func better(_ a: Candidate, _ b: Candidate) -> Bool {
        if (a.ineligible == nil) != (b.ineligible == nil) { return a.ineligible == nil }
        if a.priority != b.priority { return a.priority < b.priority }
        let lagA = a.lag?.bytes ?? Int64.max
        let lagB = b.lag?.bytes ?? Int64.max
        if lagA != lagB { return lagA < lagB }
        let latencyA = a.latencyMs ?? .infinity
        let latencyB = b.latencyMs ?? .infinity
        if latencyA != latencyB { return latencyA < latencyB }
        return a.site < b.site
    }
}
