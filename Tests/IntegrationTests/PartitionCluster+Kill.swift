import FailoverTesting
import Foundation

/// What one kill run measured: the leader killed with -9 during its exec step.
struct KillRunFigures {
    var run: Int
    var oldLeader: String
    var newLeader: String
    /// From the killed controller's death to no live process left in its step's group.
    var childGoneMs: Double?
    /// The longest time a step of the killed leader and one of its successor ran together.
    var overlapMs: Int64
    var tokens: String

    var line: String {
        "kill run \(run): leader \(oldLeader) killed -9 during drain; its step's process group gone "
            + (childGoneMs.map { String(format: "%.1f ms", $0) } ?? "NEVER (3 s)") + " after its death; "
            + "\(newLeader) re-ran the step; overlap \(overlapMs) ms; tokens \(tokens)"
    }
}

extension PartitionCluster {
    /// One run: a drill through the leader; 1 s into its long drain step the leader is
    /// killed with -9; measures when the step's process group is gone; waits until another
    /// controller finishes the plan; restarts the killed controller; waits until steady.
    func killRun(number: Int) throws -> KillRunFigures {
        let leader = try waitUntilSteady(timeout: 40)
        let (began, to) = try startDrill(via: leader)
        guard let start = stepLines().last(where: { $0.event == "START" && $0.controller == leader && $0.ms >= began }),
            let step = ProcessTable.entry(start.pid)
        else { throw Failure("no running step of \(leader) to kill it in") }
        // The scenario's timing, not an event: the kill comes 1 s into the leader's step.
        let wake = began + 1_000 - NetnsLab.nowMs()
        if wake > 0 { usleep(UInt32(wake * 1_000)) }
        kill9(leader)  // returns once the controller is reaped
        let gone = ProcessTable.timeUntilEmpty(step.group).map { $0 / .milliseconds(1) }
        var next = ""
        try wait("another controller re-running drain", timeout: 25) {
            next = stepLines().first { $0.ms >= began && $0.event == "START" && $0.step == "drain" && $0.controller != leader }?.controller ?? ""
            return !next.isEmpty
        }
        try wait("\(next) finishing the plan on \(to)", timeout: 40) {
            let g = self.group(next)
            return g?["phase"] as? String == "steady" && g?["primary"] as? String == to
        }
        try restart(leader)
        try waitUntilSteady(primary: to, timeout: 40)
        let all = intervals(since: began)
        let now = NetnsLab.nowMs()
        let olds = all.filter { $0.controller == leader }, others = all.filter { $0.controller != leader }
        let overlap = olds.flatMap { o in others.map { o.overlap(with: $0, now: now) } }.max() ?? 0
        return KillRunFigures(
            run: number, oldLeader: leader, newLeader: next, childGoneMs: gone, overlapMs: overlap,
            tokens: "\(olds.first?.token ?? "?")/\(others.first { $0.controller == next }?.token ?? "?")")
    }
}
