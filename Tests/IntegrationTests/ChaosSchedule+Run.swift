import FailoverTesting
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What one fault did when it ran: on what, and when (ms since 1970).
struct ChaosFaultRecord {
    var fault: ChaosFault
    /// The controller, etcd member or site it hit.
    var target: String
    var injectedMs: Int64
    var recoveredMs: Int64?
    /// Anything the run had to decide for it (no leader known, a precondition waited for).
    var note: String?

    var line: String {
        "  \(fault.kind.rawValue) → \(target) at \(injectedMs), undone at \(recoveredMs.map(String.init) ?? "-")"
            + (note.map { " (\($0))" } ?? "")
    }
}

/// Runs one schedule against a started `ChaosCluster`: each fault at its time (after the
/// start, plus however long a primary failure waited for the group to be steady), undone
/// after its duration; then undoes whatever is left and waits until every controller is up.
final class ChaosRunner: @unchecked Sendable {
    let cluster: ChaosCluster
    let schedule: ChaosSchedule
    private(set) var records: [ChaosFaultRecord] = []
    private var killed: Set<String> = [], stopped: Set<String> = [], isolated: Set<String> = []
    private var startMs: Int64 = 0
    /// How far the schedule was pushed back by primary failures waiting for a steady group.
    private var delayMs: Int64 = 0
    private let background = DispatchGroup()
    private let errorLock = NSLock()
    private var backgroundErrors: [String] = []

    init(cluster: ChaosCluster, schedule: ChaosSchedule) {
        self.cluster = cluster
        self.schedule = schedule
    }

    /// Runs every fault and its undoing in time order; returns when the last is undone.
    func run() throws {
        startMs = NetnsLab.nowMs()
        let steps = schedule.faults.indices.flatMap { [($0, false), ($0, true)] }.sorted { a, b in
            let ta = a.1 ? schedule.faults[a.0].endMs : schedule.faults[a.0].atMs
            let tb = b.1 ? schedule.faults[b.0].endMs : schedule.faults[b.0].atMs
            return (ta, a.1 ? 0 : 1, a.0) < (tb, b.1 ? 0 : 1, b.0)
        }
        var recordOf: [Int: Int] = [:]
        for (index, undo) in steps {
            let fault = schedule.faults[index]
            // The schedule's timing, not an event: each action comes at its time.
            let wake = startMs + delayMs + (undo ? fault.endMs : fault.atMs) - NetnsLab.nowMs()
            if wake > 0 { usleep(UInt32(wake * 1_000)) }
            if undo, let r = recordOf[index] {
                try recover(r)
            } else if !undo {
                records.append(try inject(fault))
                recordOf[index] = records.count - 1
            }
        }
    }

    // MARK: faults

    private func inject(_ fault: ChaosFault) throws -> ChaosFaultRecord {
        var note: String?
        let target: String
        switch fault.kind {
        case .killLeader, .stopLeader:
            (target, note) = leader()
            if fault.kind == .killLeader { kill9(target) } else { pause(target) }
        case .killFollower:
            let (leader, why) = leader()
            target = ChaosCluster.ids.filter { $0 != leader }.sorted()[fault.pick]
            note = why
            kill9(target)
        case .killEtcd:
            let raft = fault.pick == 3 ? cluster.etcd.raftLeader(seenBy: liveMember()) : nil
            target = raft ?? ChaosCluster.etcdMembers[min(fault.pick, 2)]
            if fault.pick == 3, raft == nil { note = "no raft leader known: took \(target)" }
            cluster.etcd.kill(member: target)
        case .isolate:
            let (leader, why) = leader()
            target = fault.pick == 0 ? leader : ChaosCluster.ids.filter { $0 != leader }.sorted()[fault.pick - 1]
            note = why
            try cluster.cutFromEtcd(target)
            isolated.insert(target)
        case .primaryFailure:
            (target, note) = try primaryOnceSteady()
            cluster.listeners[target]!.stop()
        }
        return ChaosFaultRecord(fault: fault, target: target, injectedMs: NetnsLab.nowMs(), note: note)
    }

    private func recover(_ index: Int) throws {
        let record = records[index]
        switch record.fault.kind {
        case .killLeader, .killFollower:
            try restartIfDead(record.target)
        case .stopLeader:
            resume(record.target)
        case .killEtcd:
            restartInBackground(member: record.target)
        case .isolate:
            isolated.remove(record.target)
            try cluster.lab.heal()
            for id in isolated { try cluster.cutFromEtcd(id) }
        case .primaryFailure:
            try cluster.listeners[record.target]!.start()
        }
        records[index].recoveredMs = NetnsLab.nowMs()
    }

    private func kill9(_ id: String) {
        cluster[id].stop(signal: SIGKILL)
        killed.insert(id)
        stopped.remove(id)
    }

    private func pause(_ id: String) {
        guard !killed.contains(id) else { return }
        kill(cluster[id].pid, SIGSTOP)
        stopped.insert(id)
    }

    private func resume(_ id: String) {
        guard stopped.remove(id) != nil else { return }
        kill(cluster[id].pid, SIGCONT)
    }

    private func restartIfDead(_ id: String) throws {
        guard killed.remove(id) != nil else { return }
        try cluster.restart(id)
    }

    /// An etcd restart waits until the member is healthy: off the schedule's thread.
    private func restartInBackground(member: String) {
        DispatchQueue.global().async(group: background) { [cluster] in
            do { try cluster.etcd.restart(member: member) } catch {
                self.errorLock.withLock { self.backgroundErrors.append("etcd \(member) restart: \(error)") }
            }
        }
    }

    // MARK: undoing everything

    /// SIGCONT, restarts, heals the links, restarts etcd members and sites, then waits until
    /// every etcd member is healthy and every controller serves, is quorate and names one
    /// leader; returns when the healing began and when everyone was up (ms since 1970).
    func healEverything() throws -> (healedMs: Int64, upMs: Int64) {
        let healed = NetnsLab.nowMs()
        for id in stopped { resume(id) }
        for id in killed { try restartIfDead(id) }
        if !isolated.isEmpty {
            isolated = []
            try cluster.lab.heal()
        }
        background.wait()
        let errors = errorLock.withLock { backgroundErrors }
        guard errors.isEmpty else { throw ControllerProcess.Failure(errors.joined(separator: "; ")) }
        for member in ChaosCluster.etcdMembers where cluster.etcd.pid(member: member) == nil {
            try cluster.etcd.restart(member: member)
        }
        for listener in cluster.listeners.values { try listener.start() }
        try cluster.wait("every controller up after the schedule", timeout: 60) { cluster.everyoneUp() != nil }
        return (healed, NetnsLab.nowMs())
    }

    // MARK: whom a fault hits

    /// The controllers no fault holds now.
    private var healthy: [String] {
        ChaosCluster.ids.filter { !killed.contains($0) && !stopped.contains($0) && !isolated.contains($0) }
    }

    /// The leader most healthy controllers name, waiting up to 5 s for one (an election
    /// may be under way); else the first healthy controller, with a note.
    private func leader() -> (String, String?) {
        let deadline = NetnsLab.nowMs() + 5_000
        repeat {
            var named: [String: Int] = [:]
            for id in healthy { if let l = cluster.leader(seenBy: id) { named[l, default: 0] += 1 } }
            if let best = named.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }) { return (best.key, nil) }
            usleep(50_000)
        } while NetnsLab.nowMs() < deadline
        let fallback = healthy.first ?? ChaosCluster.ids[0]
        return (fallback, "no leader known: took \(fallback)")
    }

    private func liveMember() -> String {
        ChaosCluster.etcdMembers.first { cluster.etcd.pid(member: $0) != nil } ?? ChaosCluster.etcdMembers[0]
    }

    /// The group's primary, once a healthy controller shows the group steady with the
    /// standby up by quorum (at most 20 s; the rest of the schedule moves back as long).
    private func primaryOnceSteady() throws -> (String, String?) {
        let began = NetnsLab.nowMs()
        var primary: String?
        while primary == nil, NetnsLab.nowMs() < began + 20_000 {
            primary = healthy.lazy.compactMap { self.steadyPrimary(seenBy: $0) }.first
            if primary == nil { usleep(50_000) }
        }
        let waited = NetnsLab.nowMs() - began
        delayMs += waited
        guard let primary else {
            let seen = healthy.compactMap { cluster.group($0)?["primary"] as? String }.first ?? "east"
            return (seen, "the group was not steady within 20 s: failed \(seen) anyway")
        }
        return (primary, waited > 200 ? "waited \(waited) ms for a steady group" : nil)
    }

    private func steadyPrimary(seenBy id: String) -> String? {
        guard let status = cluster.status(id),
            let group = (status["groups"] as? [[String: Any]])?.first(where: { $0["name"] as? String == "web" }),
            group["phase"] as? String == "steady", let primary = group["primary"] as? String,
            let sites = status["sites"] as? [[String: Any]],
            sites.allSatisfy({ ($0["quorum"] as? [String: Any])?["verdict"] as? String == "up" })
        else { return nil }
        return primary
    }
}
