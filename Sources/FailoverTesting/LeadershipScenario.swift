import FailoverCore
import Foundation
import Yams

/// A golden scenario for `LeadershipMachine`: a folder holding `scenario.yaml` (a group and
/// a timeline of inputs) and `expected.txt` (every action the machine asked for, and the
/// end state). The player models the backend: one ledger entry of group `web` (revision
/// and state), answered commits change it.
///
/// Timeline entries, each at a time from the start (`at: 1s`), do one or more of:
/// - `lease: 3s`: a keepalive was acknowledged; the lease is valid until `at` + 3s.
/// - `lease_lost: true`: the lease is gone.
/// - `ledger: {epoch: 1, primary: west}`: the stored state changes behind the machine's
///   back (a steady state), at the next revision; `ledger: last` stores the state of the
///   last commit sent (a write whose answer was lost); `ledger: {revision: 2, epoch: 0,
///   primary: east}` sets the revision too (a restored backup).
/// - `view: {leader: me, term: 5}` (`quorate: false`, `leader: c2`, `alive: [c1, c2]`): a
///   coordination view, carrying the ledger entry when the backend is shared.
/// - `sites: {east: down}`: a snapshot (merged into the previous one).
/// - `command: "drill west" | "failover west" | pause | resume`.
/// - `commit: ok | stale | not-leader | failed | lost`: answers the commit in flight
///   (`lost`: written, but the answer failed).
/// - `finish: ok | "failed boom" | allow | veto`: the running work ends; `finish_old: ok`
///   answers the first work ever started (a result from an earlier term).
/// - `tick: true`: time passed (wake-ups, retries, timers).
/// - `restart: true`: a new process, from the states last mirrored into the event log.
public struct LeadershipScenario: Decodable, Sendable {
    /// What the scenario shows.
    public var description: String
    /// `true` (default): etcd, with a lease; `false`: `local`.
    public var shared: Bool?
    /// The lease margin (default 500ms).
    public var margin: String?
    /// The group under test (name `web`).
    public var group: GroupScenario.GroupSpec
    /// The inputs.
    public var timeline: [Entry]

    /// One input (or several at one instant, applied in the order of the fields below).
    public struct Entry: Decodable, Sendable {
        public var at: String
        public var lease: String?
        public var lease_lost: Bool?
        public var ledger: LedgerSpec?
        public var view: ViewSpec?
        public var sites: [String: String]?
        public var command: String?
        public var commit: String?
        public var finish: String?
        public var finish_old: String?
        public var tick: Bool?
        public var restart: Bool?
    }

    /// A stored state: `last` or a steady state.
    public enum LedgerSpec: Decodable, Sendable {
        case last
        case steady(epoch: Int, primary: String, revision: Int64?)

        public init(from decoder: any Decoder) throws {
            if let word = try? decoder.singleValueContainer().decode(String.self), word == "last" {
                self = .last
                return
            }
            let fields = try decoder.container(keyedBy: Key.self)
            self = .steady(
                epoch: try fields.decode(Int.self, forKey: .epoch), primary: try fields.decode(String.self, forKey: .primary),
                revision: try fields.decodeIfPresent(Int64.self, forKey: .revision))
        }

        enum Key: String, CodingKey { case epoch, primary, revision }
    }

    /// A coordination view.
    public struct ViewSpec: Decodable, Sendable {
        public var leader: String?
        public var term: Int64?
        public var quorate: Bool?
        public var alive: [String]?
    }

    /// Loads `scenario.yaml` from `folder`.
    public static func load(_ folder: URL) throws -> LeadershipScenario {
        let text = try String(contentsOf: folder.appendingPathComponent("scenario.yaml"), encoding: .utf8)
        return try YAMLDecoder().decode(LeadershipScenario.self, from: text)
    }

    /// Replays the timeline; renders every action and the end state as lines. Throws when
    /// the machine starts work while it may not act (the invariant every scenario checks).
    public func replay() throws -> String {
        let margin = try margin.map { try Self.duration($0) } ?? .milliseconds(500)
        var player = LeadershipScenarioPlayer(config: try group.config(), shared: shared ?? true, margin: margin)
        for entry in timeline { try player.play(entry) }
        return player.finish().joined(separator: "\n")
    }

    static func duration(_ text: String) throws -> Duration {
        guard let value = Duration(text: text) else { throw GroupScenario.Invalid(description: "\"\(text)\" is not a duration") }
        return value
    }
}
