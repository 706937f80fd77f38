/// What an event records. Stable strings: they are stored and shown to users.
public enum EventKind: String, Sendable, Equatable, CaseIterable, Codable {
    case controllerStarted = "controller_started"
    case controllerStopped = "controller_stopped"
    case configLoaded = "config_loaded"
    /// A site's debounced state changed on this controller (details: the transition and
    /// the probe results of the round that caused it).
    case siteStateChanged = "site_state_changed"
    /// The quorum verdict of a site changed.
    case quorumVerdictChanged = "quorum_verdict_changed"
    /// A manual-mode group's primary is down: a human must run `failoverctl failover`.
    case failoverNeeded = "failover_needed"
    /// An automatic failover is held back (paused group, cooldown).
    case failoverHeld = "failover_held"
    /// The primary is down and no standby is eligible: nothing was changed.
    case noEligibleTarget = "no_eligible_target"
    /// The pre hook is asked whether a failover may go ahead.
    case hookStarted = "hook_started"
    /// The pre hook vetoed a failover.
    case failoverVetoed = "failover_vetoed"
    /// A failover (or drill, or failback) was decided: the epoch increased, the plan starts.
    case failoverStarted = "failover_started"
    /// A plan step started.
    case stepStarted = "step_started"
    /// One attempt of a step failed; it will be retried.
    case stepAttemptFailed = "step_attempt_failed"
    /// A plan step ended (ok, failed or skipped).
    case stepFinished = "step_finished"
    /// The plan waits between steps because the group is paused.
    case planSuspended = "plan_suspended"
    /// A stored plan continues (after resume or a controller restart).
    case planResumed = "plan_resumed"
    /// Every step finished: the group has its new primary (details: RTO measures).
    case failoverSucceeded = "failover_succeeded"
    /// A step failed with `on_failure: abort`: the group needs a human.
    case failoverStuck = "failover_stuck"
    /// A group was paused (maintenance).
    case groupPaused = "group_paused"
    /// A group was resumed.
    case groupResumed = "group_resumed"
    /// This controller can no longer see a quorum of members: it stops acting.
    case quorumLost = "quorum_lost"
    /// This controller sees a quorum of members again.
    case quorumRegained = "quorum_regained"
    /// A member controller's lease expired (its votes no longer count).
    case controllerLost = "controller_lost"
    /// Two sites of a group run a writable PostgreSQL primary.
    case splitBrain = "split_brain"
    /// The split brain of a group ended: at most one writable primary again.
    case splitBrainEnded = "split_brain_ended"
    /// This controller became the leader, or stopped being it (etcd coordination).
    case leaderChanged = "leader_changed"
}

/// One row of the event log.
public struct Event: Sendable, Equatable, Codable {
    /// Row id once stored.
    public var id: Int64?
    /// When it happened (UTC milliseconds).
    public var at: Timestamp
    /// The controller that recorded it.
    public var controller: String
    /// The failover group, when it concerns one.
    public var group: String?
    /// The site, when it concerns one.
    public var site: String?
    /// The group's epoch at the time (fencing token), when it concerns a group.
    public var epoch: Int?
    /// What happened.
    public var kind: EventKind
    /// Kind-specific details; never secrets.
    public var details: JSONValue

    /// Creates an event.
    public init(
        id: Int64? = nil, at: Timestamp, controller: String, group: String? = nil, site: String? = nil,
        epoch: Int? = nil, kind: EventKind, details: JSONValue = .object([:])
    ) {
        self.id = id
        self.at = at
        self.controller = controller
        self.group = group
        self.site = site
        self.epoch = epoch
        self.kind = kind
        self.details = details
    }
}
