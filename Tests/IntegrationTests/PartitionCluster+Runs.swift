import FailoverTesting
import Foundation

/// Where the leader is cut off in a partition run.
enum PartitionScenario: String {
    /// [[leader], everyone else]: the leader reaches no etcd member.
    case allEtcd = "all-etcd"
    /// [[leader, eK], the other controllers and members]: the leader still reaches one
    /// member, which itself lost its raft quorum: the raft leader in odd runs, a follower
    /// in even ones.
    case majorityOnly = "majority-only"

    /// The partition's groups, and the etcd member left with the leader (if any).
    func groups(leader: String, run: Int, raftLeader: String?) -> (groups: [[String]], kept: String?) {
        let others = PartitionCluster.ids.filter { $0 != leader }
        let members = PartitionCluster.etcdMembers
        switch self {
        case .allEtcd:
            return ([[leader], others + members], nil)
        case .majorityOnly:
            let follower = members.first { $0 != raftLeader } ?? members[0]
            let kept = run % 2 == 1 ? (raftLeader ?? members[0]) : follower
            return ([[leader, kept], others + members.filter { $0 != kept }], kept)
        }
    }
}

/// What one partition run measured, times relative to the cut (ms).
struct PartitionRunFigures {
    var scenario: PartitionScenario
    var run: Int
    var oldLeader: String
    var newLeader: String
    /// The etcd member left with the old leader, and until when it still was the raft
    /// leader (− cut; nil: it was a follower, or there is none).
    var kept: String?
    var keptLeaderUntil: Int64?
    /// How long applying the partition took (its start to `cut`).
    var applyMs: Int64
    /// The old leader's last step end − cut, and how that step ended.
    var oldEnd: Int64
    var oldEnding: String
    /// The new leader's first step start − cut.
    var newStart: Int64
    /// When a member on the majority side first read the leader key as no longer the old
    /// leader's (its lease ended at etcd, or the key was taken) − cut; nil: not seen.
    var leaseEnd: Int64?
    /// The longest time an old-leader step and a new-leader step ran together.
    var overlapMs: Int64
    /// The token the old and new leader's steps saw (`-`: none).
    var tokens: String

    /// The latest the old leader's lease can end − cut: lease_ttl after its last renewal
    /// could be granted. Only a raft leader renews a lease, so that is the cut, or when the
    /// kept member stopped being the raft leader (an isolated raft leader renews leases until
    /// check-quorum makes it step down, about an election timeout later: etcd's new leader
    /// extends every lease by an election timeout for that reason).
    var deadline: Int64 { max(0, keptLeaderUntil ?? 0) + PartitionCluster.leaseTTLms }
    var pastDeadline: Bool { oldEnd > deadline }

    var line: String {
        let keptText =
            kept.map { k in ", kept \(k)" + (keptLeaderUntil.map { " (raft leader until cut+\($0) ms)" } ?? "") } ?? ""
        return
            "partition \(scenario.rawValue) run \(run): leader \(oldLeader) cut (applied in \(applyMs) ms\(keptText));"
            + " lease deadline cut+\(deadline) ms; old leader's step ended (\(oldEnding)) at cut+\(oldEnd) ms;"
            + " its leader key gone at etcd at cut+\(leaseEnd.map(String.init) ?? "?") ms;"
            + " \(newLeader)'s first step at cut+\(newStart) ms;"
            + " overlap \(overlapMs) ms; tokens \(tokens)\(pastDeadline ? " PAST THE LEASE DEADLINE" : "")"
    }
}

/// What the harness saw between the cut and the new leader's first step (ms since 1970).
private struct Takeover {
    var next = ""
    var leaseEnd: Int64?
    var keptLeaderUntil: Int64?
}

extension PartitionCluster {
    /// One run: a drill through the leader; 1 s into its long drain step the partition of
    /// `scenario`; wait until another controller re-runs the step and finishes the plan;
    /// heal; wait until the cluster is steady again; measure the step intervals.
    func partitionRun(_ scenario: PartitionScenario, number: Int) throws -> PartitionRunFigures {
        let leader = try waitUntilSteady(timeout: 40)
        let (began, to) = try startDrill(via: leader)
        let raftLeader = etcd.raftLeader(seenBy: PartitionCluster.etcdMembers[0])
        let (groups, kept) = scenario.groups(leader: leader, run: number, raftLeader: raftLeader)
        // The scenario's timing, not an event: the cut comes 1 s into the leader's step.
        let wake = began + 1_000 - NetnsLab.nowMs()
        if wake > 0 { usleep(UInt32(wake * 1_000)) }
        let change = try lab.partition(groups)
        let takeover: Takeover
        do {
            takeover = try awaitTakeover(from: leader, since: began, kept: kept, keptIsRaftLeader: kept == raftLeader)
            try wait("\(takeover.next) finishing the plan on \(to)", timeout: 40) {
                let g = self.group(takeover.next)
                return g?["phase"] as? String == "steady" && g?["primary"] as? String == to
            }
        } catch {
            _ = try? lab.heal()
            _ = try? waitUntilSteady(timeout: 60)
            throw error
        }
        try lab.heal()
        try waitUntilSteady(primary: to, timeout: 40)
        try wait("every step process of the run ended", timeout: 15) {
            self.intervals(since: began).allSatisfy { $0.end != nil }
        }
        return figures(scenario, run: number, since: began, old: leader, change: change, kept: kept, takeover: takeover)
    }

    /// Asks `leader` for a drill to the other site and waits for its drain START; returns
    /// the START's time and the target.
    func startDrill(via leader: String) throws -> (began: Int64, to: String) {
        guard let g = group(leader), let from = g["primary"] as? String, let epoch = g["epoch"] as? Int else {
            throw Failure("no group web from \(leader)")
        }
        let to = from == "east" ? "west" : "east"
        let reply = drill(via: leader, to: to)
        guard reply?.status == 202 else {
            throw Failure("drill via \(leader) not accepted: \(reply.map { "\($0.status) \($0.text)" } ?? "no answer")\n\(logs())")
        }
        var began: Int64 = 0
        try wait("\(leader)'s drain START", timeout: 15) {
            let line = stepLines().last {
                $0.event == "START" && $0.step == "drain" && $0.controller == leader && $0.epoch > epoch
            }
            began = line?.ms ?? 0
            return line != nil
        }
        return (began, to)
    }

    /// Waits until a controller other than `leader` starts drain. Meanwhile notes when the
    /// kept member (if it was the raft leader) no longer says it leads, and when a member on
    /// the majority side first reads the leader key as no longer `leader`'s.
    private func awaitTakeover(from leader: String, since began: Int64, kept: String?, keptIsRaftLeader: Bool) throws
        -> Takeover
    {
        var seen = Takeover()
        var keptLeads = keptIsRaftLeader && kept != nil
        let observer = PartitionCluster.etcdMembers.first { $0 != kept }!
        try wait("another controller re-running drain", timeout: 25) {
            if keptLeads, let kept, etcd.raftLeader(seenBy: kept, timeout: .milliseconds(200)) != kept {
                keptLeads = false
                seen.keptLeaderUntil = NetnsLab.nowMs()
            }
            if seen.leaseEnd == nil,
                let value = etcd.value(of: "\(keyPrefix)/leader", seenBy: observer, timeout: .milliseconds(200)),
                value != leader
            {
                seen.leaseEnd = NetnsLab.nowMs()
            }
            let line = stepLines().first {
                $0.ms >= began && $0.event == "START" && $0.step == "drain" && $0.controller != leader
            }
            seen.next = line?.controller ?? ""
            return line != nil
        }
        if keptLeads { seen.keptLeaderUntil = NetnsLab.nowMs() }  // still leading: a bound, not a time
        return seen
    }

    /// Every step interval that started at or after `ms`.
    func intervals(since ms: Int64) -> [StepInterval] {
        StepInterval.from(stepLines(), processEnds: watcher.ends()).filter { $0.start >= ms }
    }

    private func figures(
        _ scenario: PartitionScenario, run: Int, since began: Int64, old: String, change: NetnsLab.PartitionChange,
        kept: String?, takeover: Takeover
    ) -> PartitionRunFigures {
        let all = intervals(since: began)
        let now = NetnsLab.nowMs()
        let olds = all.filter { $0.controller == old }, others = all.filter { $0.controller != old }
        let news = others.filter { $0.controller == takeover.next }
        let last = olds.max { ($0.end ?? now) < ($1.end ?? now) }
        let overlap = olds.flatMap { o in others.map { o.overlap(with: $0, now: now) } }.max() ?? 0
        let cut = change.appliedMs
        return PartitionRunFigures(
            scenario: scenario, run: run, oldLeader: old, newLeader: takeover.next, kept: kept,
            keptLeaderUntil: takeover.keptLeaderUntil.map { $0 - cut }, applyMs: cut - change.startedMs,
            oldEnd: (last?.end ?? now) - cut, oldEnding: last?.ending ?? "none",
            newStart: (news.map(\.start).min() ?? now) - cut, leaseEnd: takeover.leaseEnd.map { $0 - cut },
            overlapMs: overlap, tokens: "\(olds.first?.token ?? "?")/\(news.first?.token ?? "?")")
    }

    typealias Failure = ControllerProcess.Failure
}
