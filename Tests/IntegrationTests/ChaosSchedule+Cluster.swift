import FailoverTesting
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The chaos lab: three `failoverctl run` controllers `c1`…`c3`, a 3-member etcd `e1`…`e3`
/// and two sites `east` and `west`, each node in its own network namespace of one
/// `NetnsLab`. Every controller links to every etcd member and to both sites; the members
/// link to each other. A site is a TCP listener on its node's address, which every
/// controller checks over its own link: stopping it fails the site for all controllers at
/// once (connection refused), starting it again brings it back.
///
/// Group `web` (east ➜ west, automatic, cooldown 1 s) runs `drain, fence, promote, dns,
/// verify`; every site action is `step.sh MS`, which appends the partition tests' action
/// log line `MS START|END|KILLED STEP SITE EPOCH TOKEN CONTROLLER PID` (KILLED on SIGTERM)
/// and, at START, `... FROM TO INCIDENT` to a plan log. Steps last less than the lease minus
/// its keepalive period, so a SIGSTOPped leader's step ends before anyone may take over.
final class ChaosCluster: @unchecked Sendable {
    static let ids = PartitionCluster.ids
    static let etcdMembers = PartitionCluster.etcdMembers
    static let sites = ["east", "west"]
    static let sitePort = 8_080
    static let leaseTTLms: Int64 = 3_000
    /// Each step's duration in ms (`dns` takes none). `CHAOS_DRAIN_MS` overrides drain's, to
    /// see the harness catch what a step longer than the lease does under SIGSTOP.
    static let stepMs = [
        "drain": Int(ProcessInfo.processInfo.environment["CHAOS_DRAIN_MS"] ?? "") ?? 1_500, "fence": 500,
        "promote": 500, "dns": 0,
    ]
    let token = "chaos-token-\(UUID().uuidString.prefix(8))"
    let keyPrefix = "/fo-chaos-\(UUID().uuidString.prefix(8))"
    let lab: NetnsLab
    let etcd: NetnsEtcdCluster
    let controllers: [String: ControllerProcess]
    let listeners: [String: NetnsTCPListener]
    let actionLog: String
    let planLog: String
    let watcher: StepProcessWatcher

    init() throws {
        let nodes = Self.etcdMembers + Self.ids + Self.sites
        var links: [(String, String)] = []
        for (i, a) in Self.etcdMembers.enumerated() { for b in Self.etcdMembers[(i + 1)...] { links.append((a, b)) } }
        for c in Self.ids { for s in Self.etcdMembers + Self.sites { links.append((c, s)) } }
        let lab = try NetnsLab(nodes: nodes, links: links)
        self.lab = lab
        etcd = try NetnsEtcdCluster(lab: lab, members: Self.etcdMembers)
        listeners = try Dictionary(
            uniqueKeysWithValues: Self.sites.map { ($0, try NetnsTCPListener(lab: lab, node: $0, port: Self.sitePort)) }
        )
        actionLog = lab.directory.appendingPathComponent("actions.log").path
        planLog = lab.directory.appendingPathComponent("plans.log").path
        for log in [actionLog, planLog] { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let script = lab.directory.appendingPathComponent("step.sh").path
        try Self.stepScript(log: actionLog, plans: planLog).write(toFile: script, atomically: true, encoding: .utf8)
        var controllers: [String: ControllerProcess] = [:]
        for id in Self.ids {
            let c = try ControllerProcess(
                sites: Self.siteFiles(lab: lab, script: script), id: id, extra: Self.group, apiToken: token,
                coordination: PartitionCluster.coordination(etcd.endpoints, prefix: keyPrefix))
            c.netns = lab[id].namespace
            controllers[id] = c
        }
        self.controllers = controllers
        watcher = StepProcessWatcher(log: actionLog)
    }

    deinit {
        for listener in listeners.values { listener.stop() }
        PartitionCluster.tearDown(watcher: watcher, controllers: controllers, etcd: etcd, lab: lab)
    }

    subscript(id: String) -> ControllerProcess { controllers[id]! }

    private static let group = """
        groups:
          - name: web
            primary: east
            standbys: [west]
            cooldown: 1s
            plan: [drain, fence, promote, dns, verify]
        """

    /// Both sites: a TCP check of the site's listener, every 200 ms, down after 2 failed
    /// rounds and up after 2 good ones.
    private static func siteFiles(lab: NetnsLab, script: String) -> [String: String] {
        let actions = ["drain", "fence", "promote", "dns"].map { step in
            "\(step): { exec: [\"/bin/sh\", \"\(script)\", \"\(seconds(stepMs[step] ?? 0))\"] }"
        }.joined(separator: "\n")
        return Dictionary(
            uniqueKeysWithValues: sites.map { site in
                let check = "- name: service\n  tcp: \(lab[site].address):\(sitePort)"
                return (site, ControllerProcess.site(site, fall: 2, rise: 2, checks: check, actions: actions))
            })
    }

    /// `ms` as the seconds `sleep` takes (`0` for none).
    private static func seconds(_ ms: Int) -> String { ms == 0 ? "0" : String(format: "%.3f", Double(ms) / 1000) }

    /// The step command: the plan line and START, `sleep` (interruptible: the trap runs at
    /// once), END; on SIGTERM (the controller stopping its step) KILLED and exit.
    static func stepScript(log: String, plans: String) -> String {
        """
        #!/bin/sh
        fields="$FAILOVER_STEP ${FAILOVER_SITE:--} $FAILOVER_EPOCH ${FAILOVER_TOKEN:--} $TEST_CONTROLLER $$"
        line() { echo "$(date +%s%3N) $1 $fields" >> \(log); }
        trap 'line KILLED; exit 143' TERM
        echo "$(date +%s%3N) START $fields $FAILOVER_FROM $FAILOVER_TO $FAILOVER_INCIDENT" >> \(plans)
        line START
        if [ "$1" != 0 ]; then sleep "$1" & wait $!; fi
        line END

        """
    }

    // MARK: starting and stopping

    /// Starts every controller and waits until all serve, agree on a leader and see `web`
    /// steady on east with both sites up.
    func start() throws {
        for id in Self.ids { try self[id].start(env: ["TEST_CONTROLLER": id]) }
        try wait("every controller up, web steady on east", timeout: 40) {
            if let dead = Self.ids.first(where: { !self.isRunning($0) }) {
                throw ControllerProcess.Failure("controller \(dead) exited at its start\n\(self.logs())")
            }
            return self.everyoneUp() != nil && Self.ids.allSatisfy { self.group($0)?["phase"] as? String == "steady" }
        }
    }

    /// Starts controller `id` again after a kill, keeping its previous log in
    /// `history-ID.log` (a start truncates the controller's log).
    func restart(_ id: String) throws {
        let history = lab.directory.appendingPathComponent("history-\(id).log").path
        if let old = FileManager.default.contents(atPath: self[id].logPath) {
            if !FileManager.default.fileExists(atPath: history) {
                _ = FileManager.default.createFile(atPath: history, contents: nil)
            }
            if let handle = FileHandle(forWritingAtPath: history) {
                handle.seekToEndOfFile()
                handle.write(old + Data("--- restarted at \(NetnsLab.nowMs()) ---\n".utf8))
                handle.closeFile()
            }
        }
        try self[id].start(env: ["TEST_CONTROLLER": id])
    }

    /// Whether controller `id`'s process still runs.
    func isRunning(_ id: String) -> Bool { kill(self[id].pid, 0) == 0 && StepProcessWatcher.alive(self[id].pid) }

    // MARK: the API, from inside each controller's namespace

    func json(_ id: String, _ path: String, timeout: Duration = .seconds(1)) -> Any? {
        lab.json(id, port: self[id].port, path: path, timeout: timeout)
    }
    func status(_ id: String) -> [String: Any]? { json(id, "/status") as? [String: Any] }
    func group(_ id: String) -> [String: Any]? { json(id, "/groups/web") as? [String: Any] }
    func leader(seenBy id: String, timeout: Duration = .milliseconds(500)) -> String? {
        ((json(id, "/status", timeout: timeout) as? [String: Any])?["coordination"] as? [String: Any])?["leader"]
            as? String
    }

    /// The leader when every etcd member is healthy and every controller serves, is
    /// quorate, sees every member alive and names the same leader; else nil.
    func everyoneUp() -> String? {
        guard Self.etcdMembers.allSatisfy({ etcd.isHealthy(member: $0) }) else { return nil }
        var leaders = Set<String>()
        for id in Self.ids {
            guard let c = status(id)?["coordination"] as? [String: Any], c["quorate"] as? Bool == true,
                let leader = c["leader"] as? String,
                let members = c["member_states"] as? [[String: Any]], members.count == Self.ids.count,
                members.allSatisfy({ $0["alive"] as? Bool == true })
            else { return nil }
            leaders.insert(leader)
        }
        return leaders.count == 1 ? leaders.first : nil
    }

    /// Polls `condition` every 20 ms until it holds; throws with every log after `timeout`.
    func wait(_ what: String, timeout: TimeInterval, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            guard Date() < deadline else {
                throw ControllerProcess.Failure("timed out after \(timeout)s waiting for \(what)\n\(logs())")
            }
            usleep(20_000)
        }
    }

    // MARK: links

    /// Cuts controller `id` from every etcd member, both ways; its sites stay reachable.
    func cutFromEtcd(_ id: String) throws {
        for member in Self.etcdMembers {
            try lab.dropOneWay(from: id, to: member)
            try lab.dropOneWay(from: member, to: id)
        }
    }

    // MARK: logs

    /// The action log, parsed.
    func stepLines() -> [StepLine] { StepLine.parse(file: actionLog) }

    /// Every step interval (open ones end where the watcher saw their process go).
    func intervals() -> [StepInterval] { StepInterval.from(stepLines(), processEnds: watcher.ends()) }

    /// How each step process ended: its END or KILLED line, else when the watcher saw it go.
    func stepEnds() -> ChaosInvariants.StepEnds {
        var ends: ChaosInvariants.StepEnds = watcher.ends().mapValues { ($0, "gone") }
        for line in stepLines() where line.event == "END" || line.event == "KILLED" {
            ends[line.pid] = (line.ms, line.event)
        }
        return ends
    }

    /// The plan log, parsed.
    func planStarts() -> [ChaosPlanStart] { ChaosPlanStart.parse(file: planLog) }

    /// Every controller's (and its earlier runs') and etcd member's log tail, and the
    /// action log.
    func logs(_ lines: Int = 60) -> String {
        let controllers = Self.ids.map { id -> String in
            let history = lab.directory.appendingPathComponent("history-\(id).log").path
            let earlier = (try? String(contentsOfFile: history, encoding: .utf8)).map {
                "--- earlier runs (last \(lines) lines) ---\n"
                    + $0.split(separator: "\n").suffix(lines).joined(separator: "\n") + "\n"
            }
            return "== \(id)\n" + (earlier ?? "") + self[id].logTail(lines)
        }
        return controllers.joined(separator: "\n") + "\n" + etcd.logs(lines: 15) + "\n== actions\n"
            + ((try? String(contentsOfFile: actionLog, encoding: .utf8)) ?? "")
    }

    /// Copies every log (controllers' whole logs and earlier runs, etcd tails, the action
    /// and plan logs) and `notes` to `/tmp/failoverctl-chaos/seed-N`; returns the path.
    func saveEvidence(seed: UInt64, notes: [String]) -> String {
        let dir = URL(fileURLWithPath: "/tmp/failoverctl-chaos/seed-\(seed)")
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var files = ["actions.log": actionLog, "plans.log": planLog]
        for id in Self.ids {
            files["\(id).log"] = self[id].logPath
            files["\(id)-earlier.log"] = lab.directory.appendingPathComponent("history-\(id).log").path
        }
        for (name, path) in files where FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.copyItem(atPath: path, toPath: dir.appendingPathComponent(name).path)
        }
        let text = notes.joined(separator: "\n") + "\n\n" + etcd.logs(lines: 200) + "\n"
        try? text.write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        return dir.path
    }
}
