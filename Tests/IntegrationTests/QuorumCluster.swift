import FailoverTesting
import Foundation
import XCTest

/// Three `failoverctl run` processes (`c1`, `c2`, `c3`) coordinating through a real etcd
/// cluster, monitoring two real nginx sites `east` and `west` in group `web`
/// (drain, fence, promote, dns as `exec` actions that append "STEP SITE EPOCH CONTROLLER"
/// to one log, then verify).
final class QuorumCluster {
    static let ids = ["c1", "c2", "c3"]
    static let leaseTTL = 3.0
    static let interval = 0.2

    let etcd: EtcdCluster
    let east: NginxServer
    let west: NginxServer
    let controllers: [String: ControllerProcess]
    let actionLog: String
    let prefix = "/fo-it-\(UUID().uuidString.prefix(8))"

    /// `stepScript` overrides one step's command (a shell snippet that appends its own line
    /// to `LOG`, replaced by the action log's path); `eastCheck` overrides the URL a
    /// controller probes east at.
    init(
        etcd: EtcdCluster, stepScript: [String: String] = [:], eastCheck: [String: String] = [:], apiToken: String? = nil
    ) throws {
        self.etcd = etcd
        east = try NginxServer([.http])
        west = try NginxServer([.http])
        actionLog = FailoverEndToEndTests.temporaryFile("quorum-actions.log")
        FileManager.default.createFile(atPath: actionLog, contents: nil)
        let coordination = """
            coordination:
              backend: etcd
              members: [c1, c2, c3]
              etcd:
                endpoints: [\(etcd.endpoints.joined(separator: ", "))]
                prefix: \(prefix)
                lease_ttl: \(Int(Self.leaseTTL))s
                timeout: 500ms
                poll: 100ms
            """
        var controllers: [String: ControllerProcess] = [:]
        let log = actionLog
        let siteActions: String = ["drain", "fence", "promote", "dns"].map { (step: String) -> String in
            let line = "echo $FAILOVER_STEP $FAILOVER_SITE $FAILOVER_EPOCH $TEST_CONTROLLER >> \(log)"
            let script = stepScript[step].map { $0.replacingOccurrences(of: ">> LOG", with: ">> \(log)") } ?? line
            return "\(step): { exec: [\"/bin/sh\", \"-c\", \"\(script)\"] }"
        }.joined(separator: "\n")
        for id in Self.ids {
            let eastURL = eastCheck[id] ?? east.url()
            controllers[id] = try ControllerProcess(
                sites: [
                    "east": ControllerProcess.site("east", fall: 2, checks: "- name: api\n  http: \(eastURL)", actions: siteActions),
                    "west": ControllerProcess.site("west", fall: 2, checks: "- name: api\n  http: \(west.url())", actions: siteActions),
                ],
                id: id,
                extra: """
                    groups:
                      - name: web
                        primary: east
                        standbys: [west]
                        plan:
                          - drain
                          - fence
                          - step: promote
                            timeout: 2m
                          - dns
                          - verify
                    """,
                apiToken: apiToken, coordination: coordination)
        }
        self.controllers = controllers
    }

    deinit {
        for c in controllers.values { c.stop(signal: SIGKILL) }
        east.stop()
        west.stop()
        try? FileManager.default.removeItem(atPath: actionLog)
    }

    subscript(id: String) -> ControllerProcess { controllers[id]! }

    /// Starts every controller (with `TEST_CONTROLLER` set to its id) and waits until all
    /// serve, see both sites up, and agree on one leader.
    func start() throws {
        for id in Self.ids { try self[id].start(env: ["TEST_CONTROLLER": id]) }
        for id in Self.ids { try self[id].waitUntilServing() }
        try waitForLeader()
    }

    /// Waits until every running controller named in `among` reports the same leader, and returns it.
    @discardableResult
    func waitForLeader(among: [String] = ids, not old: String? = nil, timeout: TimeInterval = 30) throws -> String {
        var leader: String?
        try self[among[0]].waitFor("one leader agreed by \(among)", timeout: timeout) {
            let leaders = try among.map { try self.coordination($0)?["leader"] as? String }
            guard let first = leaders.first ?? nil, first != old, leaders.allSatisfy({ $0 == first }) else { return false }
            leader = first
            return true
        }
        return leader!
    }

    /// `/status`'s `coordination` object of controller `id`.
    func coordination(_ id: String) throws -> [String: Any]? {
        try self[id].status()?["coordination"] as? [String: Any]
    }

    /// The quorum verdict object of `site` in controller `id`'s `/status`.
    func quorum(_ id: String, site: String) throws -> [String: Any]? {
        let sites = try self[id].status()?["sites"] as? [[String: Any]]
        return sites?.first { $0["name"] as? String == site }?["quorum"] as? [String: Any]
    }

    /// `/groups/web` of controller `id`.
    func group(_ id: String) throws -> [String: Any]? {
        try self[id].json("/groups/web") as? [String: Any]
    }

    /// Waits until controller `id` shows `web` steady on `primary`.
    func waitForPrimary(_ primary: String, on id: String, timeout: TimeInterval = 40) throws {
        try self[id].waitFor("web steady on \(primary) at \(id)", timeout: timeout) {
            let g = try self.group(id)
            return g?["primary"] as? String == primary && g?["phase"] as? String == "steady"
        }
    }

    /// The action log's lines.
    func actions() throws -> [String] {
        try String(contentsOfFile: actionLog, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// `events --json` of controller `id` (from its SQLite log), as dictionaries.
    func events(_ id: String, group: String? = nil) throws -> [[String: Any]] {
        let out = try self[id].run(["events", "--json"] + (group.map { ["--group", $0] } ?? []))
        return (try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    /// Every controller's log tail, for failure messages.
    func logs(_ lines: Int = 60) -> String {
        Self.ids.map { "== \($0)\n" + self[$0].logTail(lines) }.joined(separator: "\n") + "\n" + etcd.logs(lines: 20)
    }
}
