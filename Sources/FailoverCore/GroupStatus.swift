/// One failover group as `status` shows it.
public struct GroupStatus: Sendable, Equatable, Codable {
    /// The group.
    public var name: String
    /// The current primary.
    public var primary: String
    /// The configured (preferred) primary.
    public var configuredPrimary: String
    /// Every site of the group, in priority order.
    public var sites: [String]
    /// `steady`, `paused`, `awaiting_hook`, `running`, `suspended` or `stuck`.
    public var phase: String
    /// The failover counter (fencing token).
    public var epoch: Int
    /// Maintenance mode.
    public var paused: Bool
    /// `automatic` or `manual`.
    public var failover: FailoverMode
    /// Why an automatic failover of the down primary is held back, if it is.
    public var hold: HoldReason?
    /// The failover in progress.
    public var run: RunStatus?
    /// The most recent incident.
    public var lastIncident: IncidentSummary?

    /// Creates a group status.
    public init(
        name: String, primary: String, configuredPrimary: String, sites: [String], phase: String, epoch: Int,
        paused: Bool, failover: FailoverMode, hold: HoldReason? = nil, run: RunStatus? = nil,
        lastIncident: IncidentSummary? = nil
    ) {
        self.name = name
        self.primary = primary
        self.configuredPrimary = configuredPrimary
        self.sites = sites
        self.phase = phase
        self.epoch = epoch
        self.paused = paused
        self.failover = failover
        self.hold = hold
        self.run = run
        self.lastIncident = lastIncident
    }

    /// The status of the group `fsm` drives; `last` is its latest stored incident.
    public init(_ fsm: GroupFSM, last: Incident?) {
        let state = fsm.state
        self.init(
            name: fsm.config.name, primary: state.primary, configuredPrimary: fsm.config.primary, sites: fsm.config.sites,
            phase: fsm.phase, epoch: state.epoch, paused: state.paused, failover: fsm.config.failover,
            hold: state.hold?.reason)
        if let run = state.run {
            let index = min(run.step, fsm.config.plan.count - 1)
            self.run = RunStatus(
                incident: run.incidentID(group: fsm.config.name), kind: run.kind, from: run.from, to: run.to,
                step: run.step + 1, steps: fsm.config.plan.count, stepKind: fsm.config.plan[index].kind, phase: run.phase,
                error: run.incident?.error)
        }
        lastIncident = (state.run?.incident ?? last).map(IncidentSummary.init)
    }

    enum CodingKeys: String, CodingKey {
        case name, primary, sites, phase, epoch, paused, failover, hold, run
        case configuredPrimary = "configured_primary", lastIncident = "last_incident"
    }
}

/// A failover in progress, as `status` shows it.
public struct RunStatus: Sendable, Equatable, Codable {
    /// The incident id.
    public var incident: String
    /// Why it runs.
    public var kind: RunKind
    /// The old primary.
    public var from: String
    /// The target.
    public var to: String
    /// The step running or next (from 1).
    public var step: Int
    /// Steps in the plan.
    public var steps: Int
    /// The kind of that step.
    public var stepKind: StepKind
    /// Where the run is.
    public var phase: GroupRun.Phase
    /// Why it is stuck.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case incident, kind, from, to, step, steps, phase, error
        case stepKind = "step_kind"
    }
}

/// The headline of an incident, as `status` shows it.
public struct IncidentSummary: Sendable, Equatable, Codable {
    /// The incident id.
    public var id: String
    /// Why it happened.
    public var kind: RunKind
    /// Old primary.
    public var from: String
    /// New primary.
    public var to: String
    /// How it ended.
    public var result: IncidentResult
    /// When it was decided.
    public var decided: Timestamp
    /// Its RTO in milliseconds, when measured.
    public var rtoMs: Int64?
    /// Succeeded within its targets.
    public var passed: Bool

    /// The summary of `incident`.
    public init(_ incident: Incident) {
        id = incident.id
        kind = incident.kind
        from = incident.from
        to = incident.to
        result = incident.result
        decided = incident.decided
        let measures = incident.measures
        rtoMs = measures.rtoMs
        passed = measures.passed
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, from, to, result, decided, passed
        case rtoMs = "rto_ms"
    }
}
