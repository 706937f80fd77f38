import Foundation

/// SplitMix64, with its own bounded draw: a seed names the same schedule on every platform
/// and Swift version (the standard library's `random(in:using:)` makes no such promise).
struct ChaosRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `range` (the modulo bias is far below anything a schedule can show).
    mutating func int(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int64) -> Bool { int(0...99) < percent }
}

/// What a chaos fault does; each is undone after its duration.
enum ChaosFaultKind: String, CaseIterable {
    /// kill -9 of the current leader, started again after the duration.
    case killLeader = "kill-9 leader"
    /// SIGSTOP of the current leader for longer than the lease, then SIGCONT.
    case stopLeader = "SIGSTOP leader"
    /// kill -9 of a follower, started again after the duration.
    case killFollower = "kill-9 follower"
    /// kill -9 of one etcd member, started again on its data after the duration.
    case killEtcd = "kill etcd member"
    /// One controller cut from every etcd member (silent drops), healed after the duration.
    case isolate = "isolate from etcd"
    /// The group's current primary site refuses every controller's check, then serves again.
    case primaryFailure = "primary failure"

    /// The faults that take a controller out of the quorum while they last.
    var impairsController: Bool { self != .killEtcd && self != .primaryFailure }

    /// How long the fault lasts, drawn from its range (ms).
    func drawDuration(_ rng: inout ChaosRandom) -> Int64 {
        switch self {
        case .killLeader, .killFollower: rng.int(1_000...6_000)
        // Longer than the 3 s lease, so another controller takes over meanwhile.
        case .stopLeader: rng.int(3_500...7_000)
        case .killEtcd: rng.int(1_000...8_000)
        case .isolate: rng.int(2_000...6_000)
        // Long enough for a takeover (lease) plus detection, decision and the plan.
        case .primaryFailure: rng.int(6_000...9_000)
        }
    }

    /// The choice the kind leaves: the follower (in id order of the non-leaders), the etcd
    /// member (3: the raft leader), the isolated controller (0: the leader, 1–2: a follower).
    func drawPick(_ rng: inout ChaosRandom) -> Int {
        switch self {
        case .killFollower: Int(rng.int(0...1))
        case .killEtcd: Int(rng.int(0...3))
        case .isolate: Int(rng.int(0...2))
        default: 0
        }
    }
}

/// One fault of a schedule: what, when (ms after the schedule's start), for how long.
struct ChaosFault: Equatable {
    var kind: ChaosFaultKind
    var atMs: Int64
    var durationMs: Int64
    var pick: Int

    var endMs: Int64 { atMs + durationMs }

    /// Whether `self` and `other` must not run at once: two etcd kills or two isolations
    /// never do (one would be an etcd quorum loss, the other needs a second link set), and
    /// two controller faults only where the schedule allows a controller quorum loss; those
    /// keep `controllerGapMs` apart (a controller is back in the quorum about 2 s after its
    /// fault is undone), the others 500 ms.
    func conflicts(with other: ChaosFault, allowQuorumLoss: Bool) -> Bool {
        let both = kind.impairsController && other.kind.impairsController
        if both, !allowQuorumLoss, atMs < other.endMs + Self.controllerGapMs, other.atMs < endMs + Self.controllerGapMs
        {
            return true
        }
        guard atMs < other.endMs + 500, other.atMs < endMs + 500 else { return false }
        return kind == other.kind && (kind == .killEtcd || kind == .isolate || kind == .primaryFailure)
    }

    static let controllerGapMs: Int64 = 2_500

    var text: String {
        let at = ChaosSchedule.seconds(atMs), d = ChaosSchedule.seconds(durationMs)
        switch kind {
        case .killLeader: return "t+\(at) kill -9 of the leader, started again \(d) later"
        case .stopLeader: return "t+\(at) SIGSTOP of the leader for \(d)"
        case .killFollower: return "t+\(at) kill -9 of follower #\(pick + 1), started again \(d) later"
        case .killEtcd:
            let member = pick == 3 ? "the etcd raft leader" : "etcd member e\(pick + 1)"
            return "t+\(at) kill -9 of \(member), started again \(d) later"
        case .isolate:
            return "t+\(at) \(pick == 0 ? "the leader" : "follower #\(pick)") cut from every etcd member for \(d)"
        case .primaryFailure: return "t+\(at) the group's primary fails for every controller for \(d)"
        }
    }
}

/// A seed's list of faults. Short schedules (the smoke in `make test`): 2–3 faults over
/// 12–16 s; long ones (`make chaos`): 3–6 faults over 20–40 s. Each has 1 (short) or 1–2
/// (long) primary failures, one after another; half the other faults land 0.3–3 s after
/// a primary failure began, in its failover, the rest anywhere in the span.
struct ChaosSchedule {
    enum Length: String { case short, long }

    var seed: UInt64
    var length: Length
    /// In start order.
    var faults: [ChaosFault]
    /// Whether controller faults may overlap (two controllers out: no quorum for a while).
    var allowsQuorumLoss: Bool

    var endMs: Int64 { faults.map(\.endMs).max() ?? 0 }

    static func make(seed: UInt64, length: Length) -> ChaosSchedule {
        var rng = ChaosRandom(seed: seed &* 0x2545_F491_4F6C_DD1D ^ (length == .long ? 0x4C4F_4E47 : 0x5348_4F52))
        let count = length == .short ? rng.int(2...3) : rng.int(3...6)
        let span = length == .short ? rng.int(12_000...16_000) : rng.int(20_000...40_000)
        let primaries = length == .short ? 1 : min(rng.int(1...2), count)
        let allowQuorumLoss = rng.chance(15)
        var faults: [ChaosFault] = []
        var cursor = rng.int(1_000...4_000)
        for _ in 0..<primaries {
            let d = ChaosFaultKind.primaryFailure.drawDuration(&rng)
            faults.append(ChaosFault(kind: .primaryFailure, atMs: cursor, durationMs: d, pick: 0))
            cursor += d + rng.int(3_000...8_000)
        }
        let others: [ChaosFaultKind] = [.killLeader, .stopLeader, .killFollower, .killEtcd, .isolate]
        for _ in primaries..<count {
            let kind = others[Int(rng.int(0...Int64(others.count - 1)))]
            let d = kind.drawDuration(&rng)
            let anchor = faults[Int(rng.int(0...Int64(primaries - 1)))]
            let at = rng.chance(50) ? anchor.atMs + rng.int(300...3_000) : rng.int(0...max(0, span - d))
            var fault = ChaosFault(kind: kind, atMs: at, durationMs: d, pick: kind.drawPick(&rng))
            while let clash = faults.first(where: { fault.conflicts(with: $0, allowQuorumLoss: allowQuorumLoss) }) {
                fault.atMs = clash.endMs + ChaosFault.controllerGapMs + rng.int(0...1_500)
            }
            faults.append(fault)
        }
        faults.sort { ($0.atMs, $0.kind.rawValue) < ($1.atMs, $1.kind.rawValue) }
        return ChaosSchedule(seed: seed, length: length, faults: faults, allowsQuorumLoss: allowQuorumLoss)
    }

    /// The header and one line per fault, printed before the schedule runs.
    var lines: [String] {
        let head =
            "chaos seed \(seed) (\(length.rawValue): \(faults.count) faults over \(Self.seconds(endMs))"
            + "\(allowsQuorumLoss ? ", controller faults may overlap" : ""))"
            + " — replay: CHAOS_SEED=\(seed) CHAOS_SCHEDULES=1 CHAOS_LENGTH=\(length.rawValue)"
        return [head] + faults.map { "  " + $0.text }
    }

    static func seconds(_ ms: Int64) -> String { String(format: "%.1fs", Double(ms) / 1000) }
}

/// One START line of the chaos plan log:
/// `MS START STEP SITE EPOCH TOKEN CONTROLLER PID FROM TO INCIDENT`.
struct ChaosPlanStart: Equatable {
    /// The fields every action-log line has.
    var line: StepLine
    var from: String
    var to: String
    var incident: String

    var ms: Int64 { line.ms }
    var step: String { line.step }
    var site: String { line.site }
    var epoch: Int { line.epoch }
    var token: String { line.token }
    var controller: String { line.controller }
    var pid: Int32 { line.pid }

    init?(_ text: Substring) {
        let f = text.split(separator: " ")
        guard f.count == 11, f[1] == "START", let line = StepLine(Substring(f[0..<8].joined(separator: " "))) else {
            return nil
        }
        self.line = line
        (from, to, incident) = (String(f[8]), String(f[9]), String(f[10]))
    }

    static func parse(file: String) -> [ChaosPlanStart] {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap(ChaosPlanStart.init)
    }
}
