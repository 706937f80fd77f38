import FailoverCore
import Foundation
import Testing

/// Thousands of random schedules of three controllers' machines against a model of etcd
/// (leases that expire on the server's clock, a leader key created only if absent, guarded
/// commits): partitions, kills, lost answers, late results, commands. Invariants: no two
/// leadership terms ever have work running at overlapping times, and the stored epoch
/// never goes back.
@Suite struct LeadershipPropertyTests {
    @Test func noTwoTermsEverActAtOnceAndEpochsNeverGoBack() throws {
        var violations: [String] = []
        var starts = 0
        var handOvers = 0
        for seed in 1...1_000 {
            var world = LeadershipWorld(seed: UInt64(seed))
            world.run(steps: 300)
            violations += world.violations.map { "seed \(seed): \($0)" }
            starts += world.starts
            handOvers += world.handOvers
        }
        #expect(violations.count == 0, "\(violations.count) violations, the first: \(violations.prefix(5).joined(separator: "\n"))")
        // The schedules really exercise hand-overs and running work.
        #expect(starts > 4_000, "only \(starts) works started")
        #expect(handOvers > 1_000, "only \(handOvers) take-overs")
    }
}

/// Three controllers and an etcd model, stepped through one random schedule.
struct LeadershipWorld {
    struct Node {
        var id: String
        var machine: LeadershipMachine
        var lease: Int64?
        var connected = true
        var inFlight: [LeadershipMachine.Commit] = []
        var works: [LeadershipMachine.Work] = []
        var wakeAt: ContinuousClock.Instant?
        var nextKeepAlive: Duration = .zero
        var sequence: UInt64 = 0
        var stored: GroupState?
        var epochSeen = 0
    }

    let ttl = Duration.seconds(3)
    let margin = Duration.milliseconds(500)
    let base = ContinuousClock.now
    let config = GroupConfig(
        name: "web", primary: "east", standbys: [Standby(site: "west", priority: 1)],
        plan: [PlanStep(kind: .drain), PlanStep(kind: .promote)])
    var random: SplitMix64
    var elapsed = Duration.zero
    var nodes: [Node] = []
    // The etcd model.
    var leases: [Int64: Duration] = [:]
    var nextLease: Int64 = 100
    var revision: Int64 = 1
    var leaderKey: (owner: String, lease: Int64, created: Int64)?
    var ledger: LedgerEntry?
    var ledgerEpoch = 0
    /// Work running now: node, term, work id, since when.
    var open: [(node: String, term: Int64, work: Int, since: Duration)] = []
    var violations: [String] = []
    var starts = 0
    var handOvers = 0
    var terms: Set<Int64> = []

    init(seed: UInt64) {
        random = SplitMix64(state: seed)
        nodes = ["c1", "c2", "c3"].map { Node(id: $0, machine: Self.machine($0, config, stored: nil)) }
    }

    static func machine(_ id: String, _ config: GroupConfig, stored: GroupState?) -> LeadershipMachine {
        LeadershipMachine(
            settings: .init(me: id, shared: true, margin: .milliseconds(500), groups: [config]),
            stored: stored.map { ["web": $0] } ?? [:],
            coordination: CoordinationStatus(backend: "etcd", quorate: false, leader: nil, members: ["c1", "c2", "c3"]))
    }

    var now: ContinuousClock.Instant { base + elapsed }
    var wall: Timestamp { Timestamp(milliseconds: 1_767_225_600_000).advanced(by: elapsed) }
    func chance(_ p: Double, _ r: inout SplitMix64) -> Bool { Double.random(in: 0..<1, using: &r) < p }

    mutating func run(steps: Int) {
        for _ in 0..<steps {
            advance()
            expireLeases()
            for index in nodes.indices.shuffled(using: &random) { act(index) }
        }
    }

    /// Moves time forward by up to 400 ms, stopping at the earliest wake-up asked for.
    mutating func advance() {
        var next = elapsed + .milliseconds(Int.random(in: 20...400, using: &random))
        for node in nodes { if let at = node.wakeAt { next = min(next, max(base.duration(to: at), elapsed)) } }
        elapsed = next
        for index in nodes.indices where nodes[index].wakeAt.map({ $0 <= now }) == true {
            nodes[index].wakeAt = nil
            feed(index, nodes[index].machine.tick(now: now, wall: wall))
        }
    }

    mutating func expireLeases() {
        for (id, expiry) in leases where expiry <= elapsed {
            leases[id] = nil
            if leaderKey?.lease == id { leaderKey = nil }
        }
    }

    mutating func act(_ i: Int) {
        if chance(0.02, &random) { nodes[i].connected.toggle() }
        if chance(0.005, &random) { return kill(i) }
        if elapsed >= nodes[i].nextKeepAlive { keepAlive(i) }
        if chance(0.6, &random) { view(i) }
        if !nodes[i].inFlight.isEmpty && chance(0.7, &random) { answer(i) }
        // Works last about 6 s on average, longer than the lease: a cut-off leader is still running one.
        if let work = nodes[i].works.first, chance(0.03, &random) {
            nodes[i].works.removeFirst()
            close(work.id)
            let record = StepRecord(
                index: work.step ?? 0, kind: config.plan[work.step ?? 0].kind, site: work.context.to, startedAt: wall,
                endedAt: wall, attempts: 1, result: .ok)
            let result: LeadershipMachine.WorkResult =
                work.step == nil ? .hook(allowed: true, detail: "") : .step(StepOutcome(record: record))
            feed(i, nodes[i].machine.workFinished(work, result, now: now, wall: wall))
        }
        if chance(0.05, &random) {
            let primary = nodes[i].machine.machine("web")!.state.primary
            let snapshot = WorldSnapshot(at: wall, sites: [SiteSnapshot(name: "east", verdict: .up), SiteSnapshot(name: "west", verdict: .up)])
            feed(i, nodes[i].machine.command(Int(elapsed.milliseconds), .drill(to: primary == "east" ? "west" : "east", failback: false), group: "web", snapshot: snapshot, now: now, wall: wall))
        }
    }

    /// kill -9: the process and every child die at once; its lease lives on in etcd until it expires.
    mutating func kill(_ i: Int) {
        for work in nodes[i].works { close(work.id) }
        let stored = nodes[i].stored
        nodes[i] = Node(id: nodes[i].id, machine: Self.machine(nodes[i].id, config, stored: stored), stored: stored)
    }

    mutating func keepAlive(_ i: Int) {
        nodes[i].nextKeepAlive = elapsed + ttl / 3
        guard nodes[i].connected, let lease = nodes[i].lease else { return }
        guard leases[lease] != nil else {
            nodes[i].lease = nil
            return feed(i, nodes[i].machine.leaseLost(why: "expired", now: now, wall: wall))
        }
        // Received up to 50 ms after it was sent: etcd's clock starts later than ours.
        leases[lease] = elapsed + .milliseconds(Int.random(in: 0...50, using: &random)) + ttl
        feed(i, nodes[i].machine.leaseRenewed(validUntil: now + ttl, now: now))
    }

    mutating func view(_ i: Int) {
        guard nodes[i].connected else { return }
        if nodes[i].lease.map({ leases[$0] == nil }) ?? true {
            nextLease += 1
            nodes[i].lease = nextLease
            leases[nextLease] = elapsed + ttl
            feed(i, nodes[i].machine.leaseRenewed(validUntil: now + ttl, now: now))
        }
        let lease = nodes[i].lease!
        if leaderKey == nil {
            revision += 1
            leaderKey = (nodes[i].id, lease, revision)
        }
        let alive = nodes.filter { $0.lease.map { leases[$0] != nil } ?? false }.map(\.id)
        let policy = QuorumPolicy(members: ["c1", "c2", "c3"])
        let leading = leaderKey?.owner == nodes[i].id && leaderKey?.lease == lease
        var view = CoordinationView(
            backend: "etcd", me: nodes[i].id, policy: policy, votes: [], leader: leaderKey?.owner,
            quorate: alive.count >= 2 && alive.contains(nodes[i].id),
            memberStates: policy.members.map { MemberStatus(id: $0, alive: alive.contains($0)) },
            term: leading ? leaderKey?.created : nil)
        nodes[i].sequence += 1
        view.sequence = nodes[i].sequence
        view.groups = ledger.map { ["web": $0] } ?? [:]
        let before = nodes[i].machine.term
        feed(i, nodes[i].machine.viewRead(view, sentAt: now, now: now, wall: wall))
        if let term = nodes[i].machine.term, term != before {
            handOvers += 1
            terms.insert(term)
        }
    }

    /// Answers the oldest commit in flight: guarded by the leader key and the revision, or
    /// failed while partitioned (sometimes written all the same: the answer was lost).
    mutating func answer(_ i: Int) {
        let commit = nodes[i].inFlight.removeFirst()
        let mine = leaderKey?.owner == nodes[i].id && leaderKey?.lease == nodes[i].lease && nodes[i].lease != nil
        let current = ledger?.revision ?? 0
        if !nodes[i].connected {
            if mine && current == commit.expected && chance(0.3, &random) { write(commit) }
            return feed(i, nodes[i].machine.commitRejected(commit.id, .failed("timeout"), now: now, wall: wall))
        }
        guard mine else { return feed(i, nodes[i].machine.commitRejected(commit.id, .notLeader(current: leaderKey?.owner), now: now, wall: wall)) }
        guard current == commit.expected else { return feed(i, nodes[i].machine.commitRejected(commit.id, .stale(ledger), now: now, wall: wall)) }
        write(commit)
        nodes[i].stored = commit.state
        feed(i, nodes[i].machine.commitSucceeded(commit.id, revision: revision, now: now, wall: wall))
    }

    mutating func write(_ commit: LeadershipMachine.Commit) {
        revision += 1
        if commit.state.epoch < ledgerEpoch { violations.append("t=\(elapsed.text): the stored epoch went back from \(ledgerEpoch) to \(commit.state.epoch)") }
        ledgerEpoch = max(ledgerEpoch, commit.state.epoch)
        ledger = LedgerEntry(state: commit.state, revision: revision)
    }

    mutating func close(_ work: Int) { open.removeAll { $0.work == work } }

    /// Performs the actions the way the executor does, checking the invariant at each start.
    mutating func feed(_ i: Int, _ actions: [LeadershipMachine.Action]) {
        for action in actions {
            switch action {
            case .commit(let commit): nodes[i].inFlight.append(commit)
            case .start(let work):
                starts += 1
                for other in open where other.term != work.term || other.node != nodes[i].id {
                    violations.append(
                        "t=\(elapsed.text): \(nodes[i].id) starts work \(work.id) in term \(work.term) while \(other.node)'s work \(other.work) of term \(other.term) runs since \(other.since.text)")
                }
                open.append((nodes[i].id, work.term, work.id, elapsed))
                nodes[i].works.append(work)
            case .cancel(let ids, _):
                for id in ids { close(id) }
                nodes[i].works.removeAll { ids.contains($0.id) }
            case .mirror(_, let state): nodes[i].stored = state
            case .wake(let at): nodes[i].wakeAt = min(nodes[i].wakeAt ?? at, at)
            case .record, .answer, .succeeded, .log: break
            }
        }
        let epoch = nodes[i].machine.machine("web")!.state.epoch
        if epoch < nodes[i].epochSeen { violations.append("t=\(elapsed.text): \(nodes[i].id)'s epoch went back from \(nodes[i].epochSeen) to \(epoch)") }
        nodes[i].epochSeen = max(nodes[i].epochSeen, epoch)
    }
}
