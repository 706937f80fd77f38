import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real etcd 3.4 cluster (`/usr/bin/etcd`) whose members are nodes of a `NetnsLab`, each
/// in its own namespace, serving clients on `http://ADDRESS:2379` and peers on `:2380` of
/// its identity address, so a lab partition cuts etcd's raft traffic and its clients alike.
///
/// Members run with the flags `EtcdCluster` uses (heartbeat 100 ms, election 1 s). Each
/// keeps its data directory for the cluster's life, so `restart(member:)` brings a killed
/// member back with its data (as a rebooted host would).
public final class NetnsEtcdCluster: @unchecked Sendable {
    /// The lab the members live in.
    public let lab: NetnsLab
    /// The members' node names, in order.
    public let members: [String]
    /// Each member's client URL, in member order.
    public let endpoints: [String]
    private let directory: URL
    private let token = "fo-\(UUID().uuidString.prefix(8))"
    private let lock = NSLock()
    private var processes: [String: ChildProcess] = [:]

    /// Starts every member of `members` (nodes of `lab`) and waits until each is healthy.
    public init(lab: NetnsLab, members: [String], timeout: Duration = .seconds(30)) throws {
        guard FileManager.default.isExecutableFile(atPath: EtcdCluster.executable) else {
            throw HarnessError(
                .startFailed, "\(EtcdCluster.executable) not found (scripts/install-deps.sh installs etcd-server)")
        }
        self.lab = lab
        self.members = members
        endpoints = members.map { "http://\(lab[$0].address):2379" }
        directory = lab.directory.appendingPathComponent("etcd")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            for member in members { try launch(member) }
            for member in members { try waitUntilHealthy(member: member, timeout: timeout) }
        } catch {
            let logs = logs(lines: 30)
            stop()
            throw HarnessError(.notReady, "etcd in \(lab.prefix) did not become healthy: \(error)", log: logs)
        }
    }

    deinit { stop() }

    private func launch(_ member: String) throws {
        let address = lab[member].address
        let cluster = members.map { "\($0)=http://\(lab[$0].address):2380" }.joined(separator: ",")
        let client = "http://\(address):2379", peer = "http://\(address):2380"
        let argv = [
            EtcdCluster.executable, "--name", member, "--data-dir", directory.appendingPathComponent(member).path,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", cluster, "--initial-cluster-token", token, "--initial-cluster-state", "new",
            "--heartbeat-interval", "100", "--election-timeout", "1000", "--logger", "zap", "--log-level", "warn",
        ]
        let child = try lab.spawn(in: member, argv, outputPath: logPath(member))
        lock.withLock { processes[member] = child }
    }

    /// The member's process id (nil when it is not running).
    public func pid(member: String) -> pid_t? {
        lock.withLock { processes[member].flatMap { $0.isRunning ? $0.pid : nil } }
    }

    /// Kills `member` with SIGKILL (a crashed host) and reaps it.
    public func kill(member: String) {
        let child = lock.withLock { processes.removeValue(forKey: member) }
        child?.stop(signal: SIGKILL)
    }

    /// Starts a killed or stopped `member` again on its data and waits until it is healthy.
    public func restart(member: String, timeout: Duration = .seconds(30)) throws {
        kill(member: member)
        try launch(member)
        try waitUntilHealthy(member: member, timeout: timeout)
    }

    /// Stops every member (SIGTERM, then SIGKILL after 3 s).
    public func stop() {
        let all = lock.withLock { () -> [ChildProcess] in
            defer { processes = [:] }
            return Array(processes.values)
        }
        for child in all { _ = Self.stop(child, grace: .seconds(3)) }
    }

    private static func stop(_ child: ChildProcess, grace: Duration) -> Int32 {
        guard child.isRunning else { return child.wait() }
        Glibc.kill(child.pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while child.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        return child.stop(signal: SIGKILL)
    }

    /// Whether `member` answers `/health` (asked from its own namespace) with `true`: it
    /// runs and its raft group has a leader.
    public func isHealthy(member: String) -> Bool {
        guard
            let reply = lab.http(member, host: lab[member].address, port: 2379, path: "/health", timeout: .seconds(1)),
            reply.status == 200
        else { return false }
        return reply.text.contains("\"health\":\"true\"")
    }

    /// Waits until `member` is healthy; throws with its log when it exits or `timeout` passes.
    public func waitUntilHealthy(member: String, timeout: Duration = .seconds(30)) throws {
        let deadline = ContinuousClock.now + timeout
        while !isHealthy(member: member) {
            guard pid(member: member) != nil else {
                throw HarnessError(.exited, "etcd \(member) exited", log: logTail(member, lines: 40))
            }
            guard ContinuousClock.now < deadline else {
                throw HarnessError(
                    .notReady, "etcd \(member) not healthy after \(timeout)", log: logTail(member, lines: 40))
            }
            usleep(20_000)
        }
    }

    /// The raft leader as `member` sees it (its node name), from `/v3/maintenance/status`;
    /// nil when it does not answer or knows no leader.
    public func raftLeader(seenBy member: String, timeout: Duration = .milliseconds(500)) -> String? {
        guard
            let reply = lab.http(
                member, method: "POST", host: lab[member].address, port: 2379, path: "/v3/maintenance/status",
                body: Data("{}".utf8), timeout: timeout),
            reply.status == 200,
            let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any],
            let leader = object["leader"] as? String,
            let own = (object["header"] as? [String: Any])?["member_id"] as? String
        else { return nil }
        return leader == own ? member : memberName(id: leader, askedVia: member)
    }

    /// The value of `key` as `member` reads it (a linearizable range): nil when the member
    /// does not answer in time, `.some(nil)` when the key is absent.
    public func value(of key: String, seenBy member: String, timeout: Duration = .milliseconds(500)) -> String?? {
        let request = "{\"key\": \"\(Data(key.utf8).base64EncodedString())\"}"
        guard
            let reply = lab.http(
                member, method: "POST", host: lab[member].address, port: 2379, path: "/v3/kv/range",
                body: Data(request.utf8), timeout: timeout),
            reply.status == 200, let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
        else { return nil }
        guard let kvs = object["kvs"] as? [[String: Any]], let value = kvs.first?["value"] as? String,
            let data = Data(base64Encoded: value)
        else { return .some(nil) }
        return .some(String(decoding: data, as: UTF8.self))
    }

    private func memberName(id: String, askedVia member: String) -> String? {
        guard
            let reply = lab.http(
                member, method: "POST", host: lab[member].address, port: 2379, path: "/v3/cluster/member/list",
                body: Data("{}".utf8), timeout: .milliseconds(500)),
            let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any],
            let list = object["members"] as? [[String: Any]]
        else { return nil }
        return list.first { $0["ID"] as? String == id }?["name"] as? String
    }

    private func logPath(_ member: String) -> String { directory.appendingPathComponent("\(member).log").path }

    /// The last `lines` lines of `member`'s log.
    public func logTail(_ member: String, lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logPath(member), encoding: .utf8)) ?? ""
        return "--- etcd \(member) log (last \(lines) lines) ---\n"
            + text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Every member's log tail.
    public func logs(lines: Int = 20) -> String { members.map { logTail($0, lines: lines) }.joined(separator: "\n") }
}
