import FailoverCore
import Foundation
import Yams

/// A golden scenario for the group state machine: a folder holding `scenario.yaml` (a
/// group and a timeline of inputs) and `expected.txt` (every effect and the end state).
///
/// Timeline entries, each at a time from the start (`at: 3s`), do one of:
/// - `sites: {east: down, west: "up lag=2048 latency=4"}`: the quorum verdicts change
///   (merged into the previous snapshot); a site that turns `down` gets
///   `first_fail = at − 2s` and `last_ok = at − 3s`. `quorate: false` takes the right to act away.
/// - `tick: true`: the same snapshot again, later (timers: cooldown, failback).
/// - `steps: [ok, "failed boom", skipped, "ok lag=0 ttl=30s"]`: answers the pending step,
///   then each next one, one second apart.
/// - `hook: allow` or `hook: veto`.
/// - `command: "failover west --force" | "drill west --failback" | "drill" | pause | resume`.
/// - `restart: true`: the controller restarts with the stored state.
public struct GroupScenario: Decodable, Sendable {
    /// What the scenario shows.
    public var description: String
    /// The group under test (name `web`).
    public var group: GroupSpec
    /// The inputs.
    public var timeline: [Entry]

    /// The group settings a scenario varies.
    public struct GroupSpec: Decodable, Sendable {
        public var primary: String
        public var standbys: [String]
        public var failover: FailoverMode?
        public var failback: FailoverMode?
        public var failback_after: String?
        public var cooldown: String?
        public var max_lag: Int64?
        public var rto: String?
        public var rpo: String?
        public var hook: Bool?
        /// Step names; `name:continue` sets `on_failure: continue`.
        public var plan: [String]
    }

    /// One input.
    public struct Entry: Decodable, Sendable {
        public var at: String
        public var sites: [String: String]?
        public var quorate: Bool?
        public var tick: Bool?
        public var steps: [String]?
        public var hook: String?
        public var command: String?
        public var restart: Bool?
    }

    /// Why a scenario cannot be replayed.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Loads `scenario.yaml` from `folder`.
    public static func load(_ folder: URL) throws -> GroupScenario {
        let text = try String(contentsOf: folder.appendingPathComponent("scenario.yaml"), encoding: .utf8)
        return try YAMLDecoder().decode(GroupScenario.self, from: text)
    }

    /// The group configuration the scenario describes.
    public func config() throws -> GroupConfig { try group.config() }
}

extension GroupScenario.GroupSpec {
    /// The group configuration (named `web`) these settings describe.
    public func config() throws -> GroupConfig {
        let group = self
        let plan = try group.plan.map { text -> PlanStep in
            let parts = text.split(separator: ":").map(String.init)
            guard let kind = StepKind(rawValue: parts[0]) else { throw GroupScenario.Invalid(description: "unknown step \(text)") }
            let policy: FailurePolicy = parts.count > 1 && parts[1] == "continue" ? .continue : .abort
            return PlanStep(kind: kind, command: kind == .exec ? ["/bin/true"] : [], onFailure: policy)
        }
        return GroupConfig(
            name: "web", primary: group.primary,
            standbys: group.standbys.enumerated().map { Standby(site: $1, priority: $0 + 1) },
            failover: group.failover ?? .automatic, failback: group.failback ?? .manual,
            failbackAfter: try duration(group.failback_after, default: .seconds(600)),
            cooldown: try duration(group.cooldown, default: .seconds(600)), maxLagBytes: group.max_lag,
            rto: try group.rto.map { try duration($0, default: .zero) }, rpo: try group.rpo.map { try duration($0, default: .zero) },
            preHook: group.hook == true ? ["/usr/local/bin/veto"] : [], plan: plan)
    }

    func duration(_ text: String?, default value: Duration) throws -> Duration {
        guard let text else { return value }
        guard let parsed = Duration(text: text) else { throw GroupScenario.Invalid(description: "\"\(text)\" is not a duration") }
        return parsed
    }
}

extension GroupScenario {
    func duration(_ text: String?, default value: Duration) throws -> Duration {
        guard let text else { return value }
        guard let parsed = Duration(text: text) else { throw Invalid(description: "\"\(text)\" is not a duration") }
        return parsed
    }

    /// Replays the timeline and renders every effect, refusal and the end state as lines.
    public func replay() throws -> String {
        var player = GroupScenarioPlayer(config: try config())
        for entry in timeline { try player.play(entry) }
        return player.finish().joined(separator: "\n")
    }
}
