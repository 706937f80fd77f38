/// A failover in progress: from the election until its last step, or stuck.
public struct GroupRun: Sendable, Equatable, Codable {
    /// Where the run is.
    public enum Phase: String, Sendable, Equatable, Codable {
        /// The pre hook is running; nothing has changed yet.
        case awaitingHook = "awaiting_hook"
        /// Step `step` is running.
        case running
        /// Paused between steps; `resume` continues at `step`.
        case suspended
        /// Step `step` failed with `on_failure: abort`; `resume` retries it.
        case stuck
    }

    /// Why it runs.
    public var kind: RunKind
    /// The old primary.
    public var from: String
    /// The target.
    public var to: String
    /// The epoch it runs at (the group's epoch + 1 until decided).
    public var epoch: Int
    /// The step running, or to run next.
    public var step: Int
    /// Where the run is.
    public var phase: Phase
    /// Started by the controller itself (counts against the cooldown).
    public var automatic: Bool
    /// The old primary was healthy: RTO counts from the decision.
    public var planned: Bool
    /// Forced by a human past the eligibility checks.
    public var force: Bool
    /// A drill with `--failback`: return to `from` once verified.
    public var thenFailback: Bool
    /// Why it runs, in words.
    public var why: String = ""
    /// For a failback: the configured primary's `since` when it was judged healthy.
    public var homeSince: Timestamp?
    /// The incident, once decided (nil while the pre hook runs).
    public var incident: Incident?
    /// What was known of the old primary at the election (unplanned runs).
    public var lastOK: Timestamp?
    /// The first failed probe of the old primary's down streak.
    public var firstFail: Timestamp?
    /// When the old primary's quorum verdict became down.
    public var detected: Timestamp?

    /// The incident id this run has (or will have).
    public func incidentID(group: String) -> String { Incident.id(group: group, epoch: epoch) }

    enum CodingKeys: String, CodingKey {
        case kind, from, to, epoch, step, phase, automatic, planned, force, incident, detected, why
        case homeSince = "home_since"
        case thenFailback = "then_failback", lastOK = "last_ok", firstFail = "first_fail"
    }
}

/// Why an automatic failover of a down primary is held back. Reported once per reason and
/// down episode.
public enum HoldReason: String, Sendable, Equatable, Codable {
    /// The group is paused (maintenance).
    case paused
    /// The group fails over only on a human's command.
    case manualMode = "manual_mode"
    /// An automatic failover happened less than `cooldown` ago.
    case cooldown
    /// No standby is eligible.
    case noEligibleTarget = "no_eligible_target"
    /// The pre hook vetoed it.
    case vetoed
}

/// A held-back failover: the reason and the down episode (the primary's verdict `since`).
public struct Hold: Sendable, Equatable, Codable {
    /// Why.
    public var reason: HoldReason
    /// The primary's down verdict's `since`, identifying the episode.
    public var episode: Timestamp?
}

/// A group's durable state: what the controller must remember across restarts.
public struct GroupState: Sendable, Equatable, Codable {
    /// The current primary.
    public var primary: String
    /// Increases with every failover (fencing token); 0 before the first.
    public var epoch: Int
    /// Maintenance mode: probes go on, actions stop.
    public var paused: Bool
    /// The failover in progress, if any.
    public var run: GroupRun?
    /// When the last automatic failover finished (cooldown).
    public var lastAutomaticAt: Timestamp?
    /// The reason an automatic failover of the current down episode is held back.
    public var hold: Hold?
    /// The id of the last incident.
    public var lastIncident: String?
    /// A drill with `--failback` finished: switch back to this site on the next snapshot.
    public var pendingReturn: String?
    /// When the drill that asked for the return finished: the return waits for a reading
    /// of the home site's database taken after it (its rejoin then shows).
    public var pendingReturnSince: Timestamp?
    /// The configured primary's `since` when the pre hook vetoed failing back to it: no
    /// automatic failback is tried again until it has been down and up again.
    public var failbackVetoed: Timestamp?

    /// The state of a group that has never failed over.
    public init(primary: String) {
        self.primary = primary
        epoch = 0
        paused = false
    }

    enum CodingKeys: String, CodingKey {
        case primary, epoch, paused, run, hold
        case lastAutomaticAt = "last_automatic_at", lastIncident = "last_incident", pendingReturn = "pending_return", pendingReturnSince = "pending_return_since"
        case failbackVetoed = "failback_vetoed"
    }
}

/// An event the group machine asks its owner to record (the owner adds time, controller
/// and group).
public struct GroupEvent: Sendable, Equatable {
    /// What happened.
    public var kind: EventKind
    /// The site concerned.
    public var site: String?
    /// The epoch it concerns.
    public var epoch: Int
    /// One readable sentence.
    public var message: String
    /// Kind-specific details (the message is added as `message`).
    public var details: [String: JSONValue]

    /// Creates an event.
    public init(kind: EventKind, site: String? = nil, epoch: Int, message: String, details: [String: JSONValue] = [:]) {
        self.kind = kind
        self.site = site
        self.epoch = epoch
        self.message = message
        self.details = details
    }
}

/// What one failover's steps and hooks need to know about it.
public struct RunContext: Sendable, Equatable {
    /// The group.
    public var group: String
    /// The incident id.
    public var incident: String
    /// Why it runs.
    public var kind: RunKind
    /// The old primary.
    public var from: String
    /// The target.
    public var to: String
    /// The epoch (fencing token).
    public var epoch: Int
    /// A human forced it past eligibility checks.
    public var force: Bool
    /// The leadership term the step runs in (etcd: the revision that created the leader key;
    /// `local`: a counter of controller starts): strictly greater after every hand-over.
    public var term: Int64

    /// Creates a context.
    public init(
        group: String, incident: String, kind: RunKind, from: String, to: String, epoch: Int, force: Bool = false,
        term: Int64 = 0
    ) {
        self.group = group
        self.incident = incident
        self.kind = kind
        self.from = from
        self.to = to
        self.epoch = epoch
        self.force = force
        self.term = term
    }

    /// The fencing token `EPOCH.TERM` (`FAILOVER_TOKEN`, header `X-Failover-Token`): a target
    /// compares epoch, then term, as integers, and refuses a token lower than the highest it
    /// accepted; a stale actor's token is always lower than its successor's.
    public var token: FencingToken { FencingToken(epoch: epoch, term: term) }

    /// A drill (`FAILOVER_DRILL=1`): plugins wait for zero lag before promoting.
    public var drill: Bool { kind == .drill }
}

/// What the owner of a `GroupFSM` must do after an input, in order.
public enum GroupEffect: Sendable, Equatable {
    /// Record an event.
    case event(GroupEvent)
    /// Save (insert or replace) an incident.
    case saveIncident(Incident)
    /// Run the group's pre hook; answer with `hookFinished`.
    case runHook(RunContext)
    /// Run plan step `index`; answer with `stepFinished`.
    case runStep(RunContext, index: Int)
}

/// A human's request to a group.
public enum GroupCommand: Sendable, Equatable {
    /// Fail over to `to` (`--force`: past the up and lag checks).
    case failover(to: String, force: Bool)
    /// A planned switchover to `to` (or the elected standby), and back with `failback`.
    case drill(to: String?, failback: Bool)
    /// Stop acting (probes go on).
    case pause
    /// Act again; continue a suspended or stuck plan.
    case resume
}

/// Why a command was refused.
public struct GroupRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words.
    public var description: String

    /// Creates a refusal.
    public init(_ description: String) { self.description = description }
}

/// What a finished step reports back to the group machine.
public struct StepOutcome: Sendable, Equatable {
    /// The step's record (times, attempts, result, error).
    public var record: StepRecord
    /// Replication lag at promotion, when the step measured it.
    public var lag: ReplicationLag?
    /// The DNS TTL of the record the step changed.
    public var dnsTTL: Duration?
    /// For `verify`: the first passing probe round.
    public var restoredAt: Timestamp?

    /// Creates an outcome.
    public init(record: StepRecord, lag: ReplicationLag? = nil, dnsTTL: Duration? = nil, restoredAt: Timestamp? = nil) {
        self.record = record
        self.lag = lag
        self.dnsTTL = dnsTTL
        self.restoredAt = restoredAt
    }
}

/// What makes one actor's step distinguishable from its successor's: the group's epoch and
/// the leadership term, compared in that order.
public struct FencingToken: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// The failover epoch.
    public var epoch: Int
    /// The leadership term.
    public var term: Int64

    /// Creates a token.
    public init(epoch: Int, term: Int64) {
        self.epoch = epoch
        self.term = term
    }

    /// Reads `EPOCH.TERM`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let epoch = Int(parts[0]), let term = Int64(parts[1]), epoch >= 0, term >= 0 else { return nil }
        self.init(epoch: epoch, term: term)
    }

    /// `EPOCH.TERM`.
    public var description: String { "\(epoch).\(term)" }

    public static func < (a: FencingToken, b: FencingToken) -> Bool { (a.epoch, a.term) < (b.epoch, b.term) }
}
