import FailoverTesting
import Foundation
import XCTest

/// Three `failoverctl run` controllers `c1`…`c3` and a 3-member etcd `e1`…`e3`, each node in
/// its own network namespace of one `NetnsLab` (every controller linked to every etcd
/// member, the members to each other), so a test can cut any of them off with silent drops.
///
/// Group `web` (east ➜ west) runs `drain, fence, promote, dns, verify`; every site action
/// is `step.sh SECONDS` (drain 8 s, the others 0 s), which appends
/// `MS START|END|KILLED STEP SITE EPOCH TOKEN CONTROLLER PID` to one shared action log
/// (KILLED on SIGTERM). Each controller probes both sites with a TCP check of its own API
/// on its own loopback, so sites stay up whatever the partition: they are not under test.
/// The API is reached from the test through a socket made in the controller's namespace.
final class PartitionCluster {
    static let ids = ["c1", "c2", "c3"]
    static let etcdMembers = ["e1", "e2", "e3"]
    static let leaseTTLms: Int64 = 3_000
    static let drainSeconds = 8
    let token = "partition-\(UUID().uuidString.prefix(8))"
    let lab: NetnsLab
    let etcd: NetnsEtcdCluster
    let controllers: [String: ControllerProcess]
    let actionLog: String
    let watcher: StepProcessWatcher
    /// The controllers' etcd key prefix.
    let keyPrefix = "/fo-part-\(UUID().uuidString.prefix(8))"

    init() throws {
        lab = try NetnsLab.mesh(clients: Self.ids, servers: Self.etcdMembers)
        etcd = try NetnsEtcdCluster(lab: lab, members: Self.etcdMembers)
        actionLog = lab.directory.appendingPathComponent("actions.log").path
        _ = FileManager.default.createFile(atPath: actionLog, contents: nil)
        let script = lab.directory.appendingPathComponent("step.sh").path
        try Self.stepScript(log: actionLog).write(toFile: script, atomically: true, encoding: .utf8)
        var controllers: [String: ControllerProcess] = [:]
        for id in Self.ids {
            let c = try ControllerProcess(
                sites: [:], id: id, extra: Self.group, apiToken: token,
                coordination: Self.coordination(etcd.endpoints, prefix: keyPrefix))
            try Self.writeSites(c, script: script)
            c.netns = lab[id].namespace
            controllers[id] = c
        }
        self.controllers = controllers
        watcher = StepProcessWatcher(log: actionLog)
    }

    deinit {
        Self.tearDown(watcher: watcher, controllers: controllers, etcd: etcd, lab: lab)
    }

    /// Stops the step watcher, every controller (a stopped one is continued first, so it
    /// dies now), etcd, then the lab's namespaces.
    static func tearDown(
        watcher: StepProcessWatcher, controllers: [String: ControllerProcess], etcd: NetnsEtcdCluster, lab: NetnsLab
    ) {
        watcher.stop()
        for c in controllers.values {
            kill(c.pid, SIGCONT)
            c.stop(signal: SIGKILL)
        }
        etcd.stop()
        lab.teardown()
    }

    subscript(id: String) -> ControllerProcess { controllers[id]! }

    /// The coordination block every lab controller runs with (lease 3 s, timeout 500 ms, poll 100 ms).
    static func coordination(_ endpoints: [String], prefix: String) -> String {
        """
        coordination:
          backend: etcd
          members: [c1, c2, c3]
          etcd:
            endpoints: [\(endpoints.joined(separator: ", "))]
            prefix: \(prefix)
            lease_ttl: \(Self.leaseTTLms / 1000)s
            timeout: 500ms
            poll: 100ms
        """
    }

    private static let group = """
        groups:
          - name: web
            primary: east
            standbys: [west]
            plan: [drain, fence, promote, dns, verify]
        """

    /// Both sites, checked by a TCP connect to the controller's own API port (known only
    /// once `ControllerProcess` picked it, hence written after its `init`).
    private static func writeSites(_ c: ControllerProcess, script: String) throws {
        let actions = ["drain", "fence", "promote", "dns"].map { step in
            "\(step): { exec: [\"/bin/sh\", \"\(script)\", \"\(step == "drain" ? drainSeconds : 0)\"] }"
        }.joined(separator: "\n")
        for site in ["east", "west"] {
            let text = ControllerProcess.site(
                site, fall: 2, checks: "- name: api\n  tcp: 127.0.0.1:\(c.port)", actions: actions)
            try text.write(
                toFile: c.dir.appendingPathComponent("sites/\(site).yaml").path, atomically: true, encoding: .utf8)
        }
    }

    /// The step command: START, `sleep $1` (interruptible: the trap runs at once), END; on
    /// SIGTERM (the controller stopping its step's process group) KILLED and exit.
    static func stepScript(log: String) -> String {
        """
        #!/bin/sh
        line() {
            fields="$FAILOVER_STEP ${FAILOVER_SITE:--} $FAILOVER_EPOCH ${FAILOVER_TOKEN:--} $TEST_CONTROLLER $$"
            echo "$(date +%s%3N) $1 $fields" >> \(log)
        }
        trap 'line KILLED; exit 143' TERM
        line START
        if [ "$1" != 0 ]; then sleep "$1" & wait $!; fi
        line END

        """
    }

    // MARK: starting

    /// Starts every controller and waits until all serve, agree on a leader, and see `web`
    /// steady with both sites up.
    func start() throws {
        for id in Self.ids { try self[id].start(env: ["TEST_CONTROLLER": id]) }
        try waitUntilSteady(timeout: 40)
    }

    /// Starts controller `id` again (after `kill9`) and waits until it serves.
    func restart(_ id: String) throws {
        try self[id].start(env: ["TEST_CONTROLLER": id])
        try wait("\(id) serving again", timeout: 30) { self.lab.http(id, port: self[id].port, path: "/healthz") != nil }
    }

    // MARK: the API, from inside each controller's namespace

    func json(_ id: String, _ path: String) -> Any? {
        lab.json(id, port: self[id].port, path: path, timeout: .seconds(1))
    }
    func status(_ id: String) -> [String: Any]? { json(id, "/status") as? [String: Any] }
    func coordination(_ id: String) -> [String: Any]? { status(id)?["coordination"] as? [String: Any] }
    func leader(seenBy id: String) -> String? { coordination(id)?["leader"] as? String }
    func group(_ id: String) -> [String: Any]? { json(id, "/groups/web") as? [String: Any] }

    /// Whether controller `observer` sees `id`'s lease alive.
    func alive(_ id: String, seenBy observer: String) -> Bool {
        let members = coordination(observer)?["member_states"] as? [[String: Any]]
        return members?.first { $0["id"] as? String == id }?["alive"] as? Bool == true
    }

    /// `POST /groups/web/drill {"to": to}` to controller `id` with the API token.
    func drill(via id: String, to site: String) -> NetnsLab.HTTPReply? {
        lab.http(
            id, method: "POST", port: self[id].port, path: "/groups/web/drill",
            headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
            body: Data("{\"to\": \"\(site)\"}".utf8), timeout: .seconds(5))
    }

    /// Whether controller `id` is quorate, sees every member alive and `leader` as the
    /// leader, and shows `web` steady (on `primary` when given) with both sites up.
    func isSteady(_ id: String, leader: String, primary: String?) -> Bool {
        guard let status = status(id), let c = status["coordination"] as? [String: Any],
            c["quorate"] as? Bool == true, c["leader"] as? String == leader,
            let members = c["member_states"] as? [[String: Any]], members.allSatisfy({ $0["alive"] as? Bool == true }),
            let sites = status["sites"] as? [[String: Any]], sites.count == 2,
            sites.allSatisfy({ ($0["quorum"] as? [String: Any])?["verdict"] as? String == "up" }),
            let g = group(id), g["phase"] as? String == "steady"
        else { return false }
        return primary == nil || g["primary"] as? String == primary
    }

    /// Waits until every etcd member is healthy and every controller is steady under one
    /// leader; returns the leader.
    @discardableResult
    func waitUntilSteady(primary: String? = nil, timeout: TimeInterval = 30) throws -> String {
        var leader = ""
        try wait(
            "etcd healthy, one leader, web steady\(primary.map { " on \($0)" } ?? "") everywhere", timeout: timeout
        ) {
            guard Self.etcdMembers.allSatisfy({ self.etcd.isHealthy(member: $0) }),
                let first = self.leader(seenBy: Self.ids[0])
            else { return false }
            leader = first
            return Self.ids.allSatisfy { self.isSteady($0, leader: first, primary: primary) }
        }
        return leader
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

    // MARK: chaos

    /// kill -9 of controller `id` (its running step's process group lives on, as on a host
    /// whose controller crashed).
    func kill9(_ id: String) { self[id].stop(signal: SIGKILL) }

    /// SIGSTOP of controller `id`: it stops mid-flight, connections open, lease ticking.
    func pause(_ id: String) { kill(self[id].pid, SIGSTOP) }

    /// SIGCONT of a paused controller `id`.
    func resume(_ id: String) { kill(self[id].pid, SIGCONT) }

    /// Cuts controller `id` from every etcd member.
    @discardableResult
    func isolate(_ id: String) throws -> NetnsLab.PartitionChange { try lab.isolate([id]) }

    // MARK: the action log

    /// The action log, parsed.
    func stepLines() -> [StepLine] { StepLine.parse(file: actionLog) }

    /// Every step interval of `epoch` (open ones end where the watcher saw their process go).
    func intervals(epoch: Int) -> [StepInterval] {
        StepInterval.from(stepLines(), processEnds: watcher.ends()).filter { $0.epoch == epoch }
    }

    /// Every controller's and etcd member's log tail, for failure messages.
    func logs(_ lines: Int = 40) -> String {
        Self.ids.map { "== \($0)\n" + self[$0].logTail(lines) }.joined(separator: "\n") + "\n" + etcd.logs(lines: 15)
            + "\n== actions\n" + ((try? String(contentsOfFile: actionLog, encoding: .utf8)) ?? "")
    }
}
