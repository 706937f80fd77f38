/// Who may act, as one pure machine: this controller's membership and leadership (from the
/// coordination views and its lease), every group's state as the ledger holds it, the
/// commits in flight and the hooks and steps running under a leadership term
/// (docs/architecture.md).
///
/// Pure value type in the style of a connection-pool state machine: one `mutating` method
/// per input, each returning the actions its owner (the controller's executor) performs in
/// order; it reads no clock (monotonic and wall time come in with every input) and does no
/// I/O. Guarantees, whatever the order of inputs:
/// - work (a hook or step) starts only while leading, with a live lease, and carries the
///   term (`RunContext.term`) it was started in; a result from another term is dropped;
/// - every running work is cancelled once the lease's safe deadline (lease valid until −
///   `margin`) passes without a newer acknowledged keepalive, and on every step-down;
/// - a group changes only through a commit of the ledger at the revision it was read at;
///   effects (work, answers) are released only after that commit succeeded;
/// - at most one commit per group is in flight; later inputs wait for it in order;
/// - a group's epoch never goes back: a ledger state of a lower epoch than the one held
///   (a restored backup) is overwritten, not taken.
public struct LeadershipMachine: Sendable {
    /// What the machine is set up with.
    public struct Settings: Sendable {
        /// This controller's id.
        public var me: String
        /// Whether the group states live in a shared ledger (etcd) that a lease guards;
        /// `local` leads from its first view and needs no lease.
        public var shared: Bool
        /// How long before the lease's end this controller stops acting.
        public var margin: Duration
        /// The groups.
        public var groups: [GroupConfig]
        /// The first wait after a failed commit (it doubles up to `retryCap`).
        public var retry: Duration = .seconds(1)
        /// The longest wait between retries of a failed commit.
        public var retryCap: Duration = .seconds(30)
        /// The term of a `local` controller (a counter of its starts); a shared backend's
        /// views name the term.
        public var localTerm: Int64 = 1

        /// Creates settings.
        public init(me: String, shared: Bool, margin: Duration, groups: [GroupConfig]) {
            self.me = me
            self.shared = shared
            self.margin = margin
            self.groups = groups
        }
    }

    /// Whether this controller acts.
    public enum Role: Sendable, Equatable {
        /// It follows: its groups mirror the ledger, it runs nothing.
        case follower
        /// It leads in `term`.
        case leading(term: Int64)
    }

    /// What a hook or step reports back.
    public enum WorkResult: Sendable, Equatable {
        /// The pre hook allowed (or vetoed) the run.
        case hook(allowed: Bool, detail: String)
        /// The step ended with this outcome.
        case step(StepOutcome)
    }

    /// One hook or step started by the machine.
    public struct Work: Sendable, Equatable {
        /// Unique for this machine.
        public var id: Int
        /// The term it runs in (also `context.term`).
        public var term: Int64
        /// The run's context, with its fencing token.
        public var context: RunContext
        /// The plan step's index; nil for the pre hook.
        public var step: Int?
    }

    /// A guarded write of one group's new state.
    public struct Commit: Sendable, Equatable {
        /// Matches the answer to the write.
        public var id: Int
        /// The group.
        public var group: String
        /// The new state.
        public var state: GroupState
        /// The revision the state was read at (0: absent).
        public var expected: Int64
        /// Incidents the change opened or updated.
        public var incidents: [Incident]
        /// Events of the change, recorded with it.
        public var events: [GroupEvent]
    }

    /// What a human's command got.
    public enum Answer: Sendable, Equatable {
        /// Carried out (recorded); the group's status after it.
        case done(GroupStatus)
        /// Refused or not recorded, saying why.
        case refused(String)
    }

    /// How loud a log line is.
    public enum Level: Sendable, Equatable {
        case notice, warning, error, critical
    }

    /// What the executor does, in order.
    public enum Action: Sendable, Equatable {
        /// Write this change: to the ledger (guarded), then the event log; answer with
        /// `commitSucceeded` or `commitRejected`.
        case commit(Commit)
        /// Start a hook or step; answer with `workFinished`.
        case start(Work)
        /// Cancel these works at once (their processes die with them).
        case cancel([Int], reason: String)
        /// Record a controller event (leadership, quorum, members) in the event log.
        case record(Event)
        /// Answer a human's command.
        case answer(command: Int, Answer)
        /// Write a mirrored group state into the event log (for `status` without a controller).
        case mirror(group: String, state: GroupState)
        /// An incident reached `succeeded` (count it once).
        case succeeded(Incident)
        /// Feed `tick` at this instant (the lease's safe deadline, a retry).
        case wake(at: ContinuousClock.Instant)
        /// A log line, with the group when it is about one.
        case log(Level, String, group: String?)
    }

    let settings: Settings
    /// Whether this controller acts, and in which term.
    public internal(set) var role: Role = .follower
    /// Until when the lease is certainly alive (nil: none yet, or lost).
    public internal(set) var leaseValidUntil: ContinuousClock.Instant?
    /// Every group's slot, by name.
    var slots: [String: Slot] = [:]
    /// The coordination status of the last view taken in.
    public internal(set) var coordination: CoordinationStatus
    /// The sequence of the last view taken in.
    var lastSequence: UInt64 = 0
    /// The last snapshot of the sites, re-judged on ticks and take-overs.
    var lastSnapshot: WorldSnapshot?
    /// Live members at the last view (the leader records the ones it loses).
    var liveMembers: Set<String> = []
    /// The leader named by the view before the last one, for messages.
    var formerLeader: String?
    var nextID = 1
    /// The wake-up last asked for.
    var wakeAt: ContinuousClock.Instant?

    /// A group as the machine holds it.
    struct Slot: Sendable {
        var fsm: GroupFSM
        /// The ledger revision `fsm.state` was read or written at (0: absent).
        var revision: Int64 = 0
        var lastIncident: Incident?
        /// The commit awaiting its answer, with what it releases on success.
        var inFlight: InFlight?
        /// Inputs waiting for the commit in flight (or a retry), oldest first.
        var queue: [GroupInput] = []
        /// A failed commit's input is tried again at this instant.
        var retryAt: ContinuousClock.Instant?
        var failures = 0
        /// The hook or step running for this group.
        var work: Work?
        /// When the last commit of this group was answered (a view read after it with a
        /// lower revision means the ledger went back).
        var answeredAt: ContinuousClock.Instant?
    }

    struct InFlight: Sendable {
        var commit: Commit
        var proposed: GroupFSM
        var effects: [GroupEffect]
        var input: GroupInput
        /// The term it was sent in: its effects are released only in that term.
        var term: Int64?
    }

    /// An input of one group, applied to its machine in order.
    enum GroupInput: Sendable {
        case observe
        case command(id: Int, GroupCommand, WorldSnapshot)
        case finished(Work, WorkResult)
        case restart(reason: String)
        /// Write the current state again (over a ledger that went back).
        case rewrite
    }

    /// Creates the machine with the states the local event log holds (and their last
    /// incidents); `shared` groups are replaced by the ledger's on the first view.
    public init(
        settings: Settings, stored: [String: GroupState] = [:], incidents: [String: Incident] = [:],
        coordination: CoordinationStatus
    ) {
        self.settings = settings
        self.coordination = coordination
        for group in settings.groups {
            let (state, _) = stored[group.name].map { Self.fitted($0, group) } ?? (nil, [])
            slots[group.name] = Slot(fsm: GroupFSM(config: group, state: state), lastIncident: incidents[group.name])
        }
    }

    /// The term this controller leads in, nil while it follows.
    public var term: Int64? {
        if case .leading(let term) = role { return term }
        return nil
    }

    /// Whether the lease is certainly alive at `now`, with the margin (always for `local`).
    public func leaseSafe(at now: ContinuousClock.Instant) -> Bool {
        guard settings.shared else { return true }
        guard let until = leaseValidUntil else { return false }
        return now < until - settings.margin
    }

    /// Whether work `id` may (still) act at `now`: it is the running work of its group, in
    /// the current term, and the lease is safe. Asked before every attempt.
    public func permits(work id: Int, at now: ContinuousClock.Instant) -> Bool {
        guard let term, leaseSafe(at: now) else { return false }
        return slots.values.contains { $0.work?.id == id && $0.work?.term == term }
    }

    /// The machine of `group`, nil when unknown.
    public func machine(_ group: String) -> GroupFSM? { slots[group]?.fsm }

    /// The status of every group, in configuration order.
    public var statuses: [GroupStatus] {
        settings.groups.compactMap { group in slots[group.name].map { GroupStatus($0.fsm, last: $0.lastIncident) } }
    }

    /// Every running work's id.
    public var running: [Int] { slots.values.compactMap(\.work?.id).sorted() }

    /// Whether some group waits for time to pass (cooldown, failback), so ticks matter.
    public var waitsForTime: Bool { slots.values.contains { $0.fsm.waitsForTime } }

    mutating func newID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    /// A stored state made fit for the current configuration: a primary that is no longer a
    /// site of the group is reset (epoch and history kept), and a plan that no longer has the
    /// stored run's step leaves that run stuck for a human, never out of range.
    static func fitted(_ stored: GroupState, _ group: GroupConfig) -> (GroupState, [String]) {
        var state = stored
        var warnings: [String] = []
        if !group.sites.contains(state.primary) {
            warnings.append(
                "group \(group.name): stored primary \(state.primary) is no longer one of its sites; taking \(group.primary) (epoch \(state.epoch) kept)")
            state.primary = group.primary
            state.run = nil
        }
        if var run = state.run, run.step >= group.plan.count {
            warnings.append(
                "group \(group.name): the stored run is at step \(run.step + 1) but the plan now has \(group.plan.count) steps; it is stuck until a human acts")
            run.step = group.plan.count - 1
            run.phase = .stuck
            run.incident?.error = "the plan changed while this run was stored; resume re-runs its last step, or fail over again"
            state.run = run
        }
        return (state, warnings)
    }
}
