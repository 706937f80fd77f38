import Actions
import Coordination
import EventLog
import FailoverCore
import Logging

/// Owns every group's `GroupFSM` and performs its effects: events, incidents and the new
/// state are written in one transaction before anything is done, then hooks and steps run
/// in tasks whose results come back here.
///
/// A state that cannot be written stops the group from acting: nothing happens that the
/// event log does not hold first.
///
/// With a shared `ledger` (etcd) the ledger holds the group states: every change is first a
/// transaction guarded by leadership and the state's revision, then mirrored into the event
/// log. Only the leader acts; when it becomes the leader it reads the states and resumes any
/// unfinished plan at its stored step, and when it stops being the leader it cancels its
/// running steps at once. Followers re-read the states every tick.
actor GroupSupervisor {
    let config: ControllerConfig
    let store: EventStore
    let board: StatusBoard
    let runner: StepRunner
    let hooks: ExecAction
    let wallClock: any WallClock
    let logger: Logger
    /// Where completed failovers and their RTO/RPO are recorded (`GET /metrics`).
    let metrics: ControllerMetrics?
    var machines: [String: GroupFSM] = [:]
    var lastIncidents: [String: Incident] = [:]
    var tasks: [String: Task<Void, Never>] = [:]
    private var started = false
    let ledger: (any GroupLedger)?
    /// The ledger revision each machine's state was read or written at.
    var revisions: [String: Int64] = [:]
    /// Whether this controller leads (ledger mode): it took over the ledger's states.
    var acting = false
    /// A take-over is reading the ledger.
    var takingOver = false
    /// Counts take-overs: a step or hook launched in one term may not act in another.
    var term = 0
    /// Groups whose change is being recorded; a change waits for the one before it.
    private var busy: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(
        config: ControllerConfig, store: EventStore, board: StatusBoard, runner: StepRunner, hooks: ExecAction,
        wallClock: any WallClock, logger: Logger, ledger: (any GroupLedger)? = nil, metrics: ControllerMetrics? = nil
    ) {
        self.ledger = ledger
        self.metrics = metrics
        self.config = config
        self.store = store
        self.board = board
        self.runner = runner
        self.hooks = hooks
        self.wallClock = wallClock
        self.logger = logger
    }

    /// Loads the stored states and resumes any plan a previous process left running.
    ///
    /// - Throws: when the stored states cannot be read: acting on a forgotten state would
    ///   reset epochs and primaries, so the controller must not start.
    func start() async throws {
        let stored = try store.groupStates()
        for group in config.groups {
            let state = stored[group.name].map { checked($0, group) }
            machines[group.name] = GroupFSM(config: group, state: state)
            lastIncidents[group.name] = state?.lastIncident.flatMap { try? store.incident(id: $0) }
            if let last = lastIncidents[group.name], last.result == .succeeded { metrics?.recordLastMeasures(of: last) }
        }
        started = true
        // With a ledger the leader resumes plans when it takes over, not every process.
        guard ledger == nil else { return await publishStatus() }
        for group in config.groups {
            await commit(group.name) { fsm, now in fsm.restart(at: now) }
        }
        await publishStatus()
    }

    /// A stored state made fit for the current configuration: a primary that is no longer a
    /// site of the group is reset (epoch and history kept), and a plan that no longer has the
    /// stored run's step leaves that run stuck for a human, never out of range.
    func checked(_ stored: GroupState, _ group: GroupConfig) -> GroupState {
        var state = stored
        if !group.sites.contains(state.primary) {
            logger.critical(
                "group \(group.name): stored primary \(state.primary) is no longer one of its sites; taking \(group.primary) (epoch \(state.epoch) kept)",
                metadata: ["group": "\(group.name)"])
            state.primary = group.primary
            state.run = nil
        }
        if var run = state.run, run.step >= group.plan.count {
            logger.critical(
                "group \(group.name): the stored run is at step \(run.step + 1) but the plan now has \(group.plan.count) steps; it is stuck until a human acts",
                metadata: ["group": "\(group.name)"])
            run.step = group.plan.count - 1
            run.phase = .stuck
            run.incident?.error = "the plan changed while this run was stored; resume re-runs its last step, or fail over again"
            state.run = run
        }
        return state
    }

    /// Takes in a fresh snapshot: every group may start (or hold) a failover.
    func update(_ snapshot: WorldSnapshot) async {
        guard started else { return }
        await follow(snapshot)
        // With a ledger only a controller that took over the shared states decides.
        if ledger != nil && !acting { return }
        var changed = false
        for name in config.groups.map(\.name) {
            await lock(name)
            defer { unlock(name) }
            guard var fsm = machines[name] else { continue }
            let effects = fsm.observe(snapshot)
            guard !effects.isEmpty || fsm != machines[name] else { continue }
            // Not recorded: the machine stays as it was and judges the next snapshot again.
            try? await apply(name, fsm, effects)
            changed = true
        }
        if changed { await publishStatus() }
    }

    /// Re-judges the groups whose decision depends on time (cooldown, failback) on a fresh
    /// snapshot; nothing when none does. A follower (ledger mode) re-reads the shared states.
    func tick() async {
        guard started else { return }
        if let ledger {
            let snapshot = await board.snapshot()
            if !acting && !snapshot.canAct, let entries = try? await ledger.loadGroups(), !acting, !takingOver {
                adopt(entries)
                await publishStatus()
            }
            guard acting || snapshot.canAct else { return }
            return await update(snapshot)
        }
        guard machines.values.contains(where: \.waitsForTime) else { return }
        await update(await board.snapshot())
    }

    /// Runs a human's command on `group`; returns the group's status after it.
    func command(_ command: GroupCommand, group name: String) async throws(CommandError) -> GroupStatus {
        // The snapshot first: the machine is read after the last suspension point.
        let snapshot = await board.snapshot()
        guard started, machines[name] != nil else { throw .unknownGroup(name) }
        if ledger != nil && !acting && snapshot.canAct {
            throw .refused("this controller is taking over as the leader; try again in a moment")
        }
        await lock(name)
        defer { unlock(name) }
        guard var fsm = machines[name] else { throw .unknownGroup(name) }
        let effects: [GroupEffect]
        do {
            effects = try fsm.handle(command, snapshot: snapshot)
        } catch {
            throw .refused(error.description)
        }
        do {
            try await apply(name, fsm, effects)
        } catch {
            throw .refused("the controller cannot record it, so nothing was done: \(error)")
        }
        await publishStatus()
        return status(name)!
    }

    /// The status of every group.
    func statuses() -> [GroupStatus] { config.groups.compactMap { status($0.name) } }

    /// The status of `group`, nil when unknown.
    func status(_ name: String) -> GroupStatus? {
        machines[name].map { GroupStatus($0, last: lastIncidents[name]) }
    }

    /// A copy of the machine of `group`, for previews.
    func machine(_ name: String) -> GroupFSM? { machines[name] }

    /// Cancels running steps and hooks (their plan resumes at that step after a restart)
    /// and waits for them to end.
    func shutdown() async {
        let running = tasks
        tasks = [:]
        for task in running.values { task.cancel() }
        for task in running.values { await task.value }
    }

    func publishStatus() async {
        await board.setGroupStatuses(statuses())
    }

    /// Waits until no other change of `group` is being recorded, then claims it.
    private func lock(_ group: String) async {
        while busy.contains(group) {
            await withCheckedContinuation { waiting[group, default: []].append($0) }
        }
        busy.insert(group)
    }

    private func unlock(_ group: String) {
        busy.remove(group)
        if let next = waiting[group]?.first {
            waiting[group]?.removeFirst()
            next.resume()
        }
    }

    /// Records the effects' events, incidents and `fsm`'s state in one transaction (after the
    /// ledger's guarded transaction, with one); only then does the machine take the new state
    /// and the hook or step they ask for start. On a failed write nothing changes and the
    /// error is logged and thrown. The caller holds the group's lock.
    func apply(_ name: String, _ fsm: GroupFSM, _ effects: [GroupEffect], resumeIfStale: Bool = true) async throws {
        let at = wallClock.now()
        var events: [Event] = []
        var incidents: [Incident] = []
        for effect in effects {
            switch effect {
            case .event(let e): events.append(event(e, group: name, at: at))
            case .saveIncident(let incident): incidents.append(incident)
            case .runHook, .runStep: break
            }
        }
        if let ledger {
            do {
                revisions[name] = try await ledger.commitGroup(
                    name, state: fsm.state, incidents: incidents, expected: revisions[name] ?? 0)
            } catch {
                logger.critical(
                    "group \(name): the shared state was not changed, so it does not act on this: \(error)", metadata: ["group": "\(name)"])
                switch error {
                case .notLeader: stepDown("\(error)")
                case .stale(let entry):
                    try await adoptStale(name, entry, resume: resumeIfStale)
                case .failed: break
                }
                throw error
            }
            // Leadership lost while the change was written: the next leader carries on.
            guard acting else { return }
        }
        do {
            try store.recordGroupChange(group: name, state: fsm.state, events: events, incidents: incidents, at: at)
        } catch {
            logger.critical(
                "group \(name): cannot record its state, so it does not act: \(error)", metadata: ["group": "\(name)"])
            // With a ledger the change is made: acting on it keeps the shared state true.
            if ledger == nil { throw error }
        }
        machines[name] = fsm
        let before = lastIncidents[name]
        for incident in incidents where incident.result == .succeeded {
            // Counted once: the transition into succeeded, not a later save of the same incident.
            if before?.id != incident.id || before?.result != .succeeded { metrics?.recordSucceeded(incident) }
        }
        if let last = incidents.last { lastIncidents[name] = last }
        for event in events { log(event) }
        let launchedIn = term
        for effect in effects {
            switch effect {
            case .runHook(let context): launch(name) { await self.hook(context, term: launchedIn) }
            case .runStep(let context, let index): launch(name) { await self.step(context, index: index, term: launchedIn) }
            case .event, .saveIncident: break
            }
        }
    }

    /// Applies `input` to the current machine until its result is recorded: a step's or a
    /// hook's result must not be lost to a passing write error, so it is tried again every
    /// second (on the machine as it is then) until it is recorded or the task is cancelled.
    /// With a ledger, a result that this controller may no longer record (it lost the
    /// leadership) is dropped: the leader re-runs that step.
    func commit(
        _ name: String, term launchedIn: Int? = nil, _ input: (inout GroupFSM, Timestamp) -> [GroupEffect]
    ) async {
        var wait = Duration.seconds(1)
        while !Task.isCancelled {
            await lock(name)
            // A result from an earlier leadership term, or after losing it, is not recorded.
            if ledger != nil && (!acting || launchedIn.map({ $0 != term }) == true) { return unlock(name) }
            guard var fsm = machines[name] else { return unlock(name) }
            let effects = input(&fsm, wallClock.now())
            if effects.isEmpty && fsm == machines[name] { return unlock(name) }
            do {
                try await apply(name, fsm, effects)
                return unlock(name)
            } catch {
                unlock(name)
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(30))
            }
        }
    }

}

/// Why a command was not carried out.
enum CommandError: Error, Sendable {
    /// No group has that name.
    case unknownGroup(String)
    /// The group refused it (busy, paused, target not eligible...).
    case refused(String)
}
