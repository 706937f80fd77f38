/// Why a group changed primary.
public enum RunKind: String, Sendable, Equatable, CaseIterable, Codable {
    /// Automatic failover: the quorum said the primary was down.
    case failover
    /// A human ran `failoverctl failover`.
    case manual
    /// A planned switchover (`failoverctl drill --planned`).
    case drill
    /// Automatic return to the configured primary after `failback_after` of health.
    case failback
}

/// Where an incident ended (or is).
public enum IncidentResult: String, Sendable, Equatable, CaseIterable, Codable {
    /// The plan is running (or waiting to resume).
    case running
    /// Every step finished and the service is on its new primary.
    case succeeded
    /// A step failed with `on_failure: abort`: a human must act.
    case stuck
    /// Superseded by another failover while stuck.
    case failed
}

/// How one step of an incident went.
public struct StepRecord: Sendable, Equatable, Codable {
    /// Outcome of a step.
    public enum Result: String, Sendable, Equatable, Codable {
        case ok
        case failed
        case skipped
    }

    /// Position in the plan.
    public var index: Int
    /// The step kind.
    public var kind: StepKind
    /// The site it acted on.
    public var site: String?
    /// When its first attempt started.
    public var startedAt: Timestamp
    /// When it ended.
    public var endedAt: Timestamp
    /// Attempts made.
    public var attempts: Int
    /// How it went.
    public var result: Result
    /// The last error (secrets removed), when it failed.
    public var error: String?
    /// What it changed, in words.
    public var changed: [String]

    /// Creates a step record.
    public init(
        index: Int, kind: StepKind, site: String?, startedAt: Timestamp, endedAt: Timestamp, attempts: Int,
        result: Result, error: String? = nil, changed: [String] = []
    ) {
        self.index = index
        self.kind = kind
        self.site = site
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.attempts = attempts
        self.result = result
        self.error = error
        self.changed = changed
    }

    enum CodingKeys: String, CodingKey {
        case index, kind, site, attempts, result, error, changed
        case startedAt = "started_at", endedAt = "ended_at"
    }
}

/// One failover or drill with its timeline (DESIGN.md, "Event log and measured RTO/RPO").
public struct Incident: Sendable, Equatable, Codable {
    /// `GROUP-EPOCH`, unique per group.
    public var id: String
    /// The group.
    public var group: String
    /// Why it happened.
    public var kind: RunKind
    /// Planned (the old primary was healthy): RTO counts from the decision.
    public var planned: Bool
    /// The old primary.
    public var from: String
    /// The new primary.
    public var to: String
    /// The epoch it ran at.
    public var epoch: Int
    /// The last successful probe of the old primary before it failed.
    public var lastOK: Timestamp?
    /// The first failed probe of the streak that made the old primary down.
    public var firstFail: Timestamp?
    /// When the quorum verdict of the old primary became down.
    public var detected: Timestamp?
    /// When the plan started.
    public var decided: Timestamp
    /// When the last action step before verification finished.
    public var actuated: Timestamp?
    /// The first passing verify probe of the new primary.
    public var restored: Timestamp?
    /// When it ended (succeeded, stuck or failed).
    public var endedAt: Timestamp?
    /// Every step run so far.
    public var steps: [StepRecord]
    /// The promoted replica's lag at promotion (the RPO), when a step reported it.
    public var lag: ReplicationLag?
    /// The DNS TTL a step reported, in milliseconds.
    public var dnsTTLMs: Int64?
    /// How it ended.
    public var result: IncidentResult
    /// Why it is stuck or failed.
    public var error: String?
    /// The group's RTO target at the time, in milliseconds.
    public var rtoTargetMs: Int64?
    /// The group's RPO target at the time, in milliseconds.
    public var rpoTargetMs: Int64?

    /// Creates an incident at its decision.
    public init(
        id: String, group: String, kind: RunKind, planned: Bool, from: String, to: String, epoch: Int,
        decided: Timestamp, rtoTarget: Duration? = nil, rpoTarget: Duration? = nil
    ) {
        self.id = id
        self.group = group
        self.kind = kind
        self.planned = planned
        self.from = from
        self.to = to
        self.epoch = epoch
        self.decided = decided
        self.steps = []
        self.result = .running
        self.rtoTargetMs = rtoTarget?.milliseconds
        self.rpoTargetMs = rpoTarget?.milliseconds
    }

    /// The id of the incident of `group` at `epoch`.
    public static func id(group: String, epoch: Int) -> String { "\(group)-\(epoch)" }

    /// Where the RTO clock starts: the first failed probe for an unplanned failover, the
    /// decision for a planned one.
    public var start: Timestamp { planned ? decided : (firstFail ?? detected ?? decided) }

    enum CodingKeys: String, CodingKey {
        case id, group, kind, planned, from, to, epoch, detected, decided, actuated, restored, steps, lag, result, error
        case lastOK = "last_ok", firstFail = "first_fail", endedAt = "ended_at", dnsTTLMs = "dns_ttl_ms"
        case rtoTargetMs = "rto_target_ms", rpoTargetMs = "rpo_target_ms"
    }
}
