import Actions
import Coordination
import EventLog
import FailoverCore
import Logging
import Synchronization

/// The one place that applies `LeadershipMachine`'s actions: commits through the ledger
/// (etcd, or the local event log), hooks and steps run as tasks allowed to act only while
/// the machine permits them, cancellations, events, answers to commands, and the wake-ups
/// that bound running work by the lease.
///
/// Every input is applied to the machine synchronously on this actor (`apply`); nothing
/// here decides who may act. I/O runs in tasks whose results come back as inputs.
actor LeadershipExecutor {
    let config: ControllerConfig
    let store: EventStore
    let board: StatusBoard
    let runner: StepRunner
    let hooks: ExecAction
    let ledger: any StateLedger
    let wallClock: any WallClock
    let logger: Logger
    /// Where completed failovers and their RTO/RPO are recorded (`GET /metrics`).
    let metrics: ControllerMetrics?
    /// The groups' statuses as last published (read by the board's reports).
    let published: PublishedGroups
    let clock = ContinuousClock()
    var machine: LeadershipMachine
    /// Running hooks and steps by work id.
    var tasks: [Int: Task<Void, Never>] = [:]
    /// Commands waiting for their answer, by id.
    var waiting: [Int: CheckedContinuation<LeadershipMachine.Answer, Never>] = [:]
    var nextCommand = 1
    var wakeTask: Task<Void, Never>?
    var wakeAt: ContinuousClock.Instant?
    /// The succeeded incident whose measures the metrics show, by group.
    var measured: [String: String] = [:]

    /// Creates the executor with the states the event log holds.
    ///
    /// - Throws: when the stored states cannot be read: acting on a forgotten state would
    ///   reset epochs and primaries, so the controller must not start.
    init(
        config: ControllerConfig, store: EventStore, board: StatusBoard, runner: StepRunner, hooks: ExecAction,
        ledger: any StateLedger, localTerm: Int64, wallClock: any WallClock, logger: Logger, metrics: ControllerMetrics? = nil
    ) throws {
        self.config = config
        self.store = store
        self.board = board
        self.runner = runner
        self.hooks = hooks
        self.ledger = ledger
        self.wallClock = wallClock
        self.logger = logger
        self.metrics = metrics
        published = board.published
        let stored = try store.groupStates()
        let incidents = stored.compactMapValues { state in state.lastIncident.flatMap { try? store.incident(id: $0) } }
        var settings = LeadershipMachine.Settings(
            me: config.id, shared: ledger.shared, margin: Self.margin(config.coordination), groups: config.groups)
        settings.localTerm = localTerm
        // `local` is quorate from the start (no event for it); etcd knows nothing until its first view.
        let local = !ledger.shared
        let members = config.coordination.policy(me: config.id).members
        machine = LeadershipMachine(
            settings: settings, stored: stored, incidents: incidents,
            coordination: CoordinationStatus(
                backend: config.coordination.backend, quorate: local, leader: local ? config.id : nil, members: members,
                memberStates: members.map { MemberStatus(id: $0, alive: local, leader: local) }))
        published.set(machine.statuses, leading: false)
        for (group, incident) in incidents where incident.result == .succeeded {
            metrics?.recordLastMeasures(of: incident)
            measured[group] = incident.id
        }
    }

    /// How long before the lease's end a leader stops acting: a sixth of the TTL, at least
    /// 500 ms (a cancelled exec gets SIGKILL well inside it).
    static func margin(_ coordination: CoordinationConfig) -> Duration {
        guard case .etcd(let etcd) = coordination else { return .zero }
        return max(etcd.leaseTTL / 6, .milliseconds(500))
    }

    // MARK: Inputs

    /// A coordination round's view.
    func viewRead(_ view: CoordinationView) {
        apply { machine, now, wall in machine.viewRead(view, sentAt: view.readAt ?? now, now: now, wall: wall) }
    }

    /// A keepalive's result.
    func lease(_ renewal: LeaseRenewal?) {
        switch renewal {
        case .renewed(let until): apply { machine, now, _ in machine.leaseRenewed(validUntil: until, now: now) }
        case .lost(let why): apply { machine, now, wall in machine.leaseLost(why: why, now: now, wall: wall) }
        case .failed, nil: break
        }
    }

    /// A fresh snapshot of the sites (a quorum verdict changed).
    func update(_ snapshot: WorldSnapshot) {
        apply { machine, now, wall in machine.observe(snapshot, now: now, wall: wall) }
    }

    /// Time passed: lease deadline, retries, groups waiting for time, on a fresh snapshot.
    func tick() async {
        let snapshot = await board.snapshot()
        apply { machine, now, wall in
            machine.remember(snapshot)
            return machine.tick(now: now, wall: wall)
        }
    }

    /// Runs a human's command on `group`; returns the group's status after it.
    func command(_ command: GroupCommand, group name: String) async throws(CommandError) -> GroupStatus {
        guard machine.machine(name) != nil else { throw .unknownGroup(name) }
        let snapshot = await board.snapshot()
        let id = nextCommand
        nextCommand += 1
        let answer = await withCheckedContinuation { continuation in
            waiting[id] = continuation
            apply { machine, now, wall in machine.command(id, command, group: name, snapshot: snapshot, now: now, wall: wall) }
        }
        switch answer {
        case .done(let status): return status
        case .refused(let why): throw .refused(why)
        }
    }

    /// The status of every group.
    func statuses() -> [GroupStatus] { machine.statuses }

    /// The status of `group`, nil when unknown.
    func status(_ name: String) -> GroupStatus? { machine.statuses.first { $0.name == name } }

    /// A copy of the machine of `group`, for previews.
    func machine(_ name: String) -> GroupFSM? { machine.machine(name) }

    /// Cancels running steps and hooks (their plan resumes at that step after a restart)
    /// and waits for them to end.
    func shutdown() async {
        let running = tasks
        tasks = [:]
        wakeTask?.cancel()
        for task in running.values { task.cancel() }
        for task in running.values { await task.value }
    }

    // MARK: Applying actions

    /// Feeds one input to the machine and performs the actions it returns, in order.
    func apply(_ input: (inout LeadershipMachine, ContinuousClock.Instant, Timestamp) -> [LeadershipMachine.Action]) {
        let actions = input(&machine, clock.now, wallClock.now())
        for action in actions { perform(action) }
        published.set(machine.statuses, leading: machine.term != nil)
        recordMeasures()
    }

    private func perform(_ action: LeadershipMachine.Action) {
        switch action {
        case .commit(let commit):
            Task { await self.write(commit) }
        case .start(let work):
            tasks[work.id] = Task { await self.run(work) }
        case .cancel(let ids, _):
            for id in ids { tasks.removeValue(forKey: id)?.cancel() }
        case .record(let event):
            do { try store.recordEvent(event) } catch { logger.error("cannot write event \(event.kind.rawValue) to the event log: \(error)") }
        case .answer(let id, let answer):
            waiting.removeValue(forKey: id)?.resume(returning: answer)
        case .mirror(let group, let state):
            do { try store.saveGroupState(group, state, at: wallClock.now()) } catch {
                logger.error("group \(group): cannot mirror the shared state into the event log: \(error)")
            }
        case .succeeded(let incident):
            metrics?.recordSucceeded(incident)
        case .wake(let at):
            schedule(at)
        case .log(let level, let message, let group):
            let metadata: Logger.Metadata = group.map { ["group": "\($0)"] } ?? [:]
            switch level {
            case .notice: logger.notice("\(message)", metadata: metadata)
            case .warning: logger.warning("\(message)", metadata: metadata)
            case .error: logger.error("\(message)", metadata: metadata)
            case .critical: logger.critical("\(message)", metadata: metadata)
            }
        }
    }

    /// Writes `commit` through the ledger; its answer is the machine's next input.
    private func write(_ commit: LeadershipMachine.Commit) async {
        let at = wallClock.now()
        let events = commit.events.map { event($0, group: commit.group, at: at) }
        do {
            let revision = try await ledger.commit(commit, events: events, at: at)
            for event in events { log(event) }
            apply { machine, now, wall in machine.commitSucceeded(commit.id, revision: revision, now: now, wall: wall) }
        } catch {
            apply { machine, now, wall in machine.commitRejected(commit.id, error, now: now, wall: wall) }
        }
    }

    /// One wake-up task at a time, for the earliest instant asked for.
    private func schedule(_ at: ContinuousClock.Instant) {
        if let pending = wakeAt, pending <= at, pending > clock.now, wakeTask != nil { return }
        wakeTask?.cancel()
        wakeAt = at
        wakeTask = Task { [clock] in
            do { try await clock.sleep(until: at, tolerance: .milliseconds(1)) } catch { return }
            await self.woke(at)
        }
    }

    private func woke(_ at: ContinuousClock.Instant) {
        guard wakeAt == at else { return }
        wakeAt = nil
        wakeTask = nil
        apply { machine, now, wall in machine.tick(now: now, wall: wall) }
    }

    /// Keeps the metrics' "last incident" measures on each group's last succeeded incident,
    /// however it became the last (a commit here, or the ledger's on a follower).
    private func recordMeasures() {
        for status in machine.statuses {
            guard let last = machine.lastIncident(of: status.name), last.result == .succeeded, measured[status.name] != last.id
            else { continue }
            measured[status.name] = last.id
            metrics?.recordLastMeasures(of: last)
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

/// What the executor last published for the status board: the groups' statuses and whether
/// this controller's machine acts.
final class PublishedGroups: Sendable {
    private let state = Mutex<(statuses: [GroupStatus], leading: Bool)>(([], false))

    /// The statuses.
    var value: [GroupStatus] { state.withLock { $0.statuses } }
    /// Whether the machine leads (acts) now.
    var leading: Bool { state.withLock { $0.leading } }

    /// Replaces them.
    func set(_ statuses: [GroupStatus], leading: Bool) { state.withLock { $0 = (statuses, leading) } }
}
