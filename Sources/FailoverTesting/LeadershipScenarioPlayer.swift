import FailoverCore
import Foundation

/// Plays a `LeadershipScenario` on a `LeadershipMachine` and a model of the backend (the
/// ledger entry of `web`, the commit in flight, the running works), writing one line per
/// action.
public struct LeadershipScenarioPlayer {
    let config: GroupConfig
    let shared: Bool
    let margin: Duration
    let base = ContinuousClock.now
    let origin = Timestamp(milliseconds: 1_767_225_600_000)
    var machine: LeadershipMachine
    var lines: [String] = []
    var elapsed: Duration = .zero
    /// The backend's entry of `web`.
    var ledger: LedgerEntry?
    /// The event log's state of `web` (what a restart starts from).
    var stored: GroupState?
    var inFlight: [LeadershipMachine.Commit] = []
    var lastSent: LeadershipMachine.Commit?
    var works: [LeadershipMachine.Work] = []
    var firstWork: LeadershipMachine.Work?
    var sites: [String: SiteSnapshot] = [:]
    var sequence: UInt64 = 0
    var commands = 0
    var localStarts: Int64 = 1

    /// Creates a player for `config` (group `web`).
    public init(config: GroupConfig, shared: Bool, margin: Duration) {
        self.config = config
        self.shared = shared
        self.margin = margin
        machine = Self.machine(config, shared: shared, margin: margin, stored: nil, localTerm: 1)
    }

    static func machine(_ config: GroupConfig, shared: Bool, margin: Duration, stored: GroupState?, localTerm: Int64)
        -> LeadershipMachine
    {
        var settings = LeadershipMachine.Settings(me: "c1", shared: shared, margin: margin, groups: [config])
        settings.localTerm = localTerm
        return LeadershipMachine(
            settings: settings, stored: stored.map { ["web": $0] } ?? [:],
            coordination: CoordinationStatus(backend: shared ? "etcd" : "local", quorate: false, leader: nil, members: ["c1", "c2", "c3"]))
    }

    var now: ContinuousClock.Instant { base + elapsed }
    var wall: Timestamp { origin.advanced(by: elapsed) }
    var time: String { "t=\(elapsed.text)" }

    /// Plays one entry.
    public mutating func play(_ entry: LeadershipScenario.Entry) throws {
        elapsed = try LeadershipScenario.duration(entry.at)
        if let lease = entry.lease {
            lines.append("\(time) lease valid for \(lease)")
            take(machine.leaseRenewed(validUntil: now + (try LeadershipScenario.duration(lease)), now: now))
        }
        if entry.lease_lost == true {
            lines.append("\(time) lease lost")
            take(machine.leaseLost(why: "the lease expired", now: now, wall: wall))
        }
        if let spec = entry.ledger { setLedger(spec) }
        if let view = entry.view { read(view) }
        if let changes = entry.sites { observe(changes) }
        if let command = entry.command { try run(command) }
        if let answer = entry.commit { try commit(answer) }
        if let result = entry.finish { try finish(result, old: false) }
        if let result = entry.finish_old { try finish(result, old: true) }
        if entry.tick == true {
            lines.append("\(time) tick")
            take(machine.tick(now: now, wall: wall))
        }
        if entry.restart == true {
            localStarts += 1
            lines.append("\(time) restart (event log: \(stored.map(Self.describe) ?? "empty"))")
            machine = Self.machine(config, shared: shared, margin: margin, stored: stored, localTerm: localStarts)
            inFlight = []
            works = []
        }
    }

    mutating func setLedger(_ spec: LeadershipScenario.LedgerSpec) {
        let revision = (ledger?.revision ?? 0) + 1
        switch spec {
        case .last:
            guard let sent = lastSent else { return }
            ledger = LedgerEntry(state: sent.state, revision: revision)
        case .steady(let epoch, let primary, let at):
            var state = GroupState(primary: primary)
            state.epoch = epoch
            ledger = LedgerEntry(state: state, revision: at ?? revision)
        }
        lines.append("\(time) ledger now \(ledger.map { "\(Self.describe($0.state)) rev=\($0.revision)" } ?? "empty")")
    }

    mutating func read(_ spec: LeadershipScenario.ViewSpec) {
        let policy = QuorumPolicy(members: ["c1", "c2", "c3"])
        let alive = spec.alive ?? policy.members
        let leader = spec.leader.map { $0 == "me" ? "c1" : $0 }.flatMap { $0 == "none" ? nil : $0 }
        var view = CoordinationView(
            backend: shared ? "etcd" : "local", me: "c1", policy: policy, votes: [], leader: leader,
            quorate: spec.quorate ?? true, memberStates: policy.members.map { MemberStatus(id: $0, alive: alive.contains($0), leader: $0 == leader) },
            term: leader == "c1" ? spec.term : nil)
        sequence += 1
        view.sequence = sequence
        view.readAt = now
        if shared { view.groups = ledger.map { ["web": $0] } ?? [:] }
        lines.append("\(time) view leader=\(leader ?? "none")\(spec.term.map { " term=\($0)" } ?? "") quorate=\(view.quorate)")
        take(machine.viewRead(view, sentAt: now, now: now, wall: wall))
    }

    mutating func observe(_ changes: [String: String]) {
        for (name, verdict) in changes.sorted(by: { $0.key < $1.key }) {
            let down = verdict == "down"
            sites[name] = SiteSnapshot(
                name: name, verdict: Verdict(rawValue: verdict) ?? .unknown, since: wall,
                lastOK: down ? wall.advanced(by: .seconds(-3)) : wall, firstFail: down ? wall.advanced(by: .seconds(-2)) : nil)
        }
        lines.append("\(time) sites \(changes.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        take(machine.observe(WorldSnapshot(at: wall, sites: Array(sites.values)), now: now, wall: wall))
    }

    mutating func run(_ text: String) throws {
        let words = text.split(separator: " ").map(String.init)
        let command: GroupCommand
        switch words.first {
        case "drill": command = .drill(to: words.count > 1 ? words[1] : nil, failback: words.contains("--failback"))
        case "failover": command = .failover(to: words[1], force: words.contains("--force"))
        case "pause": command = .pause
        case "resume": command = .resume
        default: throw GroupScenario.Invalid(description: "unknown command \(text)")
        }
        commands += 1
        lines.append("\(time) command #\(commands) \(text)")
        take(machine.command(commands, command, group: "web", snapshot: WorldSnapshot(at: wall, sites: Array(sites.values)), now: now, wall: wall))
    }

    mutating func commit(_ answer: String) throws {
        guard !inFlight.isEmpty else { throw GroupScenario.Invalid(description: "\(time): no commit in flight to answer \(answer)") }
        let commit = inFlight.removeFirst()
        lines.append("\(time) commit #\(commit.id) \(answer)")
        switch answer {
        case "ok", "lost":
            let revision = (ledger?.revision ?? 0) + 1
            ledger = LedgerEntry(state: commit.state, revision: revision)
            stored = commit.state
            take(
                answer == "ok"
                    ? machine.commitSucceeded(commit.id, revision: revision, now: now, wall: wall)
                    : machine.commitRejected(commit.id, .failed("etcd did not answer"), now: now, wall: wall))
        case "stale": take(machine.commitRejected(commit.id, .stale(ledger), now: now, wall: wall))
        case "not-leader": take(machine.commitRejected(commit.id, .notLeader(current: "c2"), now: now, wall: wall))
        case "failed": take(machine.commitRejected(commit.id, .failed("etcd did not answer"), now: now, wall: wall))
        default: throw GroupScenario.Invalid(description: "bad commit answer \(answer)")
        }
    }

    mutating func finish(_ answer: String, old: Bool) throws {
        guard let work = old ? firstWork : works.last else { throw GroupScenario.Invalid(description: "\(time): no work to finish") }
        works.removeAll { $0.id == work.id }
        let words = answer.split(separator: " ", maxSplits: 1).map(String.init)
        let result: LeadershipMachine.WorkResult
        switch words[0] {
        case "allow", "veto": result = .hook(allowed: words[0] == "allow", detail: words[0])
        case "ok", "failed":
            let record = StepRecord(
                index: work.step ?? 0, kind: config.plan[work.step ?? 0].kind, site: work.context.to, startedAt: wall, endedAt: wall,
                attempts: 1, result: words[0] == "ok" ? .ok : .failed, error: words.count > 1 ? words[1] : nil)
            result = .step(StepOutcome(record: record))
        default: throw GroupScenario.Invalid(description: "bad work answer \(answer)")
        }
        lines.append("\(time) work #\(work.id) ends \(answer)")
        take(machine.workFinished(work, result, now: now, wall: wall))
    }

    /// Renders `actions` and keeps what the model needs; checks that work starts only
    /// while the machine leads with a safe lease.
    mutating func take(_ actions: [LeadershipMachine.Action]) {
        for action in actions {
            switch action {
            case .commit(let c):
                inFlight.append(c)
                lastSent = c
                let events = c.events.map(\.kind.rawValue).joined(separator: ",")
                lines.append("  commit #\(c.id) \(Self.describe(c.state)) expected=\(c.expected)\(events.isEmpty ? "" : " events=\(events)")")
            case .start(let work):
                works.append(work)
                if firstWork == nil { firstWork = work }
                let what = work.step.map { "step \($0 + 1)/\(config.plan.count) \(config.plan[$0].kind.rawValue)" } ?? "pre hook"
                let allowed = machine.permits(work: work.id, at: now)
                lines.append("  start #\(work.id) \(what) token=\(work.context.token)\(allowed ? "" : " VIOLATION: not permitted")")
            case .cancel(let ids, let reason):
                works.removeAll { ids.contains($0.id) }
                lines.append("  cancel \(ids): \(reason)")
            case .record(let event):
                lines.append("  event \(event.kind.rawValue): \(event.details["message"]?.stringValue ?? "")")
            case .answer(let id, .done(let status)):
                lines.append("  answer #\(id) done: \(status.phase) on \(status.primary) epoch=\(status.epoch)")
            case .answer(let id, .refused(let why)):
                lines.append("  answer #\(id) refused: \(why)")
            case .mirror(_, let state):
                stored = state
                lines.append("  mirror \(Self.describe(state))")
            case .succeeded(let incident):
                lines.append("  succeeded \(incident.id)")
            case .wake(let at):
                lines.append("  wake t=\(base.duration(to: at).text)")
            case .log(let level, let message, _):
                if level != .notice { lines.append("  log \(level): \(message)") }
            }
        }
    }

    /// The lines so far and the end state.
    public func finish() -> [String] {
        let role = machine.term.map { "leading term=\($0)" } ?? "follower"
        let fsm = machine.machine("web")!
        return lines + ["end: \(role) \(Self.describe(fsm.state)) running=\(machine.running)"]
    }

    static func describe(_ state: GroupState) -> String {
        var text = "epoch=\(state.epoch) primary=\(state.primary)"
        if let run = state.run { text += " run=\(run.kind.rawValue):\(run.from)->\(run.to)@\(run.epoch) step=\(run.step + 1) \(run.phase.rawValue)" }
        if state.paused { text += " paused" }
        return text
    }
}
