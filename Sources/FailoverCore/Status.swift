/// Nagios-style severity of a status report, which is also `failoverctl status`'s exit code.
public enum StatusLevel: Int, Sendable, Equatable, Comparable, Codable, CaseIterable {
    case ok = 0
    case warning = 1
    case critical = 2
    case unknown = 3

    /// `OK`, `WARNING`, `CRITICAL`, `UNKNOWN`.
    public var label: String {
        switch self {
        case .ok: "OK"
        case .warning: "WARNING"
        case .critical: "CRITICAL"
        case .unknown: "UNKNOWN"
        }
    }

    public static func < (a: StatusLevel, b: StatusLevel) -> Bool { a.rawValue < b.rawValue }
}

/// One site as `status` shows it.
public struct SiteStatus: Sendable, Equatable, Codable {
    /// Site name.
    public var name: String
    /// Region label.
    public var region: String?
    /// This controller's debounced state.
    public var state: SiteFSM.State
    /// When that state was entered.
    public var since: Timestamp?
    /// The quorum's verdict (equal to this controller's with `local` coordination).
    public var quorum: QuorumVerdict
    /// The last result of each check.
    public var checks: [ProbeResult]
    /// The groups in which this site is the primary (empty until groups exist).
    public var primaryOf: [String]
    /// The groups in which this site is a standby.
    public var standbyOf: [String]

    /// Creates a site status.
    public init(
        name: String, region: String?, state: SiteFSM.State, since: Timestamp?, quorum: QuorumVerdict,
        checks: [ProbeResult], primaryOf: [String] = [], standbyOf: [String] = []
    ) {
        self.name = name
        self.region = region
        self.state = state
        self.since = since
        self.quorum = quorum
        self.checks = checks
        self.primaryOf = primaryOf
        self.standbyOf = standbyOf
    }

    enum CodingKeys: String, CodingKey {
        case name, region, state, since, quorum, checks
        case primaryOf = "primary_of", standbyOf = "standby_of"
    }
}

/// One voting member as `status` shows it.
public struct MemberStatus: Sendable, Equatable, Codable {
    /// The controller id.
    public var id: String
    /// Whether its lease is alive (its votes count).
    public var alive: Bool
    /// How long ago it last joined (granted its current lease), in milliseconds; nil when dead
    /// or unknown.
    public var leaseAgeMs: Int64?
    /// Whether it holds the leadership.
    public var leader: Bool

    /// Creates a member status.
    public init(id: String, alive: Bool, leaseAgeMs: Int64? = nil, leader: Bool = false) {
        self.id = id
        self.alive = alive
        self.leaseAgeMs = leaseAgeMs
        self.leader = leader
    }

    enum CodingKeys: String, CodingKey {
        case id, alive, leader
        case leaseAgeMs = "lease_age_ms"
    }
}

/// Coordination as `status` shows it.
public struct CoordinationStatus: Sendable, Equatable, Codable {
    /// `local` or `etcd`.
    public var backend: String
    /// Whether this controller sees enough live members to decide.
    public var quorate: Bool
    /// The controller currently holding leadership, if known.
    public var leader: String?
    /// The voting members.
    public var members: [String]
    /// Every voting member's liveness, in `members` order.
    public var memberStates: [MemberStatus]
    /// Votes needed for a quorum verdict.
    public var needed: Int
    /// Why this controller is not quorate (the backend's error), nil when it is.
    public var problem: String?

    /// Creates a coordination status; `memberStates` defaults to every member alive.
    public init(
        backend: String, quorate: Bool, leader: String?, members: [String], memberStates: [MemberStatus]? = nil,
        needed: Int? = nil, problem: String? = nil
    ) {
        self.backend = backend
        self.quorate = quorate
        self.leader = leader
        self.members = members
        self.memberStates = memberStates ?? members.map { MemberStatus(id: $0, alive: true, leader: $0 == leader) }
        self.needed = needed ?? (members.count / 2 + 1)
        self.problem = problem
    }

    enum CodingKeys: String, CodingKey {
        case backend, quorate, leader, members, needed, problem
        case memberStates = "member_states"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let members = try c.decode([String].self, forKey: .members)
        let leader = try c.decodeIfPresent(String.self, forKey: .leader)
        self.init(
            backend: try c.decode(String.self, forKey: .backend), quorate: try c.decode(Bool.self, forKey: .quorate),
            leader: leader, members: members,
            memberStates: try c.decodeIfPresent([MemberStatus].self, forKey: .memberStates),
            needed: try c.decodeIfPresent(Int.self, forKey: .needed),
            problem: try c.decodeIfPresent(String.self, forKey: .problem))
    }
}

/// The whole of `failoverctl status --json` and `GET /status`.
public struct StatusReport: Sendable, Equatable, Codable {
    /// The controller that produced the state.
    public var controller: String
    /// When the controller started.
    public var startedAt: Timestamp?
    /// When this report was produced (or, from stored state, when the state was saved).
    public var generatedAt: Timestamp
    /// `api` (a running controller answered) or `state` (read from the SQLite state).
    public var source: String
    /// Coordination health.
    public var coordination: CoordinationStatus
    /// Every configured site.
    public var sites: [SiteStatus]
    /// Every failover group.
    public var groups: [GroupStatus]
    /// The alert outbox, when alerts are configured.
    public var alerts: AlertQueueStatus?
    /// Human-readable reasons behind `level`.
    public var problems: [String]
    /// The overall severity.
    public var level: StatusLevel

    /// Creates a report and derives `level` and `problems` from its content.
    public init(
        controller: String, startedAt: Timestamp?, generatedAt: Timestamp, source: String,
        coordination: CoordinationStatus, sites: [SiteStatus], groups: [GroupStatus] = []
    ) {
        self.controller = controller
        self.startedAt = startedAt
        self.generatedAt = generatedAt
        self.source = source
        self.coordination = coordination
        self.sites = sites
        self.groups = groups
        (level, problems) = StatusReport.assess(coordination: coordination, sites: sites)
        for (level, problem) in groups.compactMap(StatusReport.assess) + groups.flatMap({ Self.assessDatabases($0, sites) }) {
            self.level = max(self.level, level)
            problems.append(problem)
        }
    }

    /// The severity a group's databases add, from each site's latest `postgres` check
    /// (nothing while a failover of the group runs, nor for groups without such checks):
    /// critical for a writable primary on a site that is not the group's primary (two
    /// writable primaries), warning when no site streams from the primary on its timeline
    /// (the next loss of the primary loses data).
    static func assessDatabases(_ group: GroupStatus, _ sites: [SiteStatus]) -> [(StatusLevel, String)] {
        guard group.run == nil else { return [] }
        let databases = group.sites.compactMap { name -> (String, DatabaseObservation)? in
            sites.first { $0.name == name }?.checks.lazy.compactMap(\.database).first.map { (name, $0) }
        }
        guard !databases.isEmpty else { return [] }
        var found: [(StatusLevel, String)] = []
        for (name, database) in databases where name != group.primary && database.writable {
            found.append((.critical, "site \(name) runs a writable PostgreSQL primary but \(group.name)'s primary is \(group.primary): two writable primaries (split brain); fence \(name)"))
        }
        let primary = databases.first { $0.0 == group.primary }?.1
        let healthy = databases.filter { name, database in
            name != group.primary && database.role == .replica && database.streaming
                && primary.map { $0.timeline == database.timeline && $0.systemIdentifier == database.systemIdentifier } != false
        }
        if healthy.isEmpty {
            found.append((.warning, "group \(group.name) has no healthy replica streaming from its primary \(group.primary): losing \(group.primary) now loses data (rejoin a replica)"))
        }
        return found
    }

    /// The severity a group adds: critical when stuck or held with its primary down,
    /// warning while failing over, paused or suspended.
    static func assess(_ group: GroupStatus) -> (StatusLevel, String)? {
        if let run = group.run {
            let what = "\(run.incident) (\(run.kind.rawValue) \(run.from) → \(run.to))"
            switch run.phase {
            case .stuck:
                return (.critical, "group \(group.name) is stuck at step \(run.step)/\(run.steps) (\(run.stepKind.rawValue)) of \(what): \(run.error ?? "needs a human")")
            case .suspended:
                return (.warning, "group \(group.name) is paused in the middle of \(what), before step \(run.step)/\(run.steps)")
            case .running, .awaitingHook:
                return (.warning, "group \(group.name) is failing over: \(what), step \(run.step)/\(run.steps) (\(run.stepKind.rawValue))")
            }
        }
        if let hold = group.hold { return (.critical, "group \(group.name) cannot fail over its down primary \(group.primary): \(hold.rawValue)") }
        if group.paused { return (.warning, "group \(group.name) is paused (maintenance): no automatic failover") }
        return nil
    }

    /// The severity rule: critical for no quorum or a down site that is a group's primary
    /// or belongs to no group; warning for a suspect site, a down standby, or a site
    /// without a verdict yet; otherwise OK.
    public static func assess(coordination: CoordinationStatus, sites: [SiteStatus]) -> (StatusLevel, [String]) {
        var level = StatusLevel.ok
        var problems: [String] = []
        func raise(_ to: StatusLevel, _ why: String) {
            level = max(level, to)
            problems.append(why)
        }
        if !coordination.quorate {
            raise(.critical, "no quorum: this controller cannot see a majority of members" + (coordination.problem.map { " (\($0))" } ?? ""))
        } else if coordination.leader == nil {
            raise(.warning, "no leader yet: no controller may act")
        }
        for member in coordination.memberStates where !member.alive && coordination.quorate {
            raise(.warning, "controller \(member.id) is not alive: its votes do not count")
        }
        for site in sites {
            switch site.quorum.verdict {
            case .down where !site.primaryOf.isEmpty:
                raise(.critical, "site \(site.name) is down and is the primary of \(site.primaryOf.joined(separator: ", "))")
            case .down where site.standbyOf.isEmpty:
                raise(.critical, "site \(site.name) is down")
            case .down: raise(.warning, "standby site \(site.name) is down")
            case .suspect: raise(.warning, "site \(site.name) is suspect")
            case .unknown: raise(.warning, "site \(site.name) has no verdict yet")
            case .up: break
            }
        }
        return (level, problems)
    }

    /// Adds the alert outbox and the severity it brings: a warning when alerts were given up
    /// on, or when one has waited for delivery longer than `patience`.
    public mutating func add(alerts: AlertQueueStatus, patience: Duration = .seconds(300)) {
        self.alerts = alerts
        if alerts.failed > 0 {
            level = max(level, .warning)
            problems.append("\(alerts.failed) alert\(alerts.failed == 1 ? "" : "s") could not be delivered (a receiver refused them)")
        }
        if let oldest = alerts.oldestPendingAt, generatedAt.since(oldest) > patience {
            level = max(level, .warning)
            problems.append("\(alerts.pending) alert\(alerts.pending == 1 ? "" : "s") waiting for delivery since \(oldest)")
        }
    }

    /// Marks a report read from stored state whose controller is not answering.
    public mutating func markStale(reason: String) {
        level = max(level, .warning)
        problems.insert(reason, at: 0)
    }

    enum CodingKeys: String, CodingKey {
        case controller, source, coordination, sites, groups, alerts, problems, level
        case startedAt = "started_at", generatedAt = "generated_at"
    }
}
