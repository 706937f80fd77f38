import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A lab of network namespaces, one per node, joined by a mesh of point-to-point veth
/// pairs, in which any set of links can silently drop every packet (a partition).
///
/// Topology: node `i` (0-based, in `nodes` order) lives in namespace `PREFIX-NAME` with one
/// identity address `10.213.L.(i+1)/32` on its `lo`; each link `a`–`b` is a veth pair whose
/// ends are `to-b` in `a` and `to-a` in `b`, with a /32 route to the peer's address over it
/// (`src` the node's own). Nothing is put in the root namespace: the veths are created
/// straight into their namespaces. Nodes without a link cannot reach each other.
///
/// A drop is `tc qdisc replace dev to-b root pfifo limit 0` in `a`: every packet leaving
/// over that end is discarded, so connects and established connections time out without an
/// error (no RST, no ICMP); removing the qdisc heals it and open TCP connections resume.
///
/// `PREFIX` is `fopl-PID-N` (this process, lab number N); `init` first deletes the
/// namespaces of a dead process's labs, and `teardown` (or `deinit`) deletes this lab's.
public final class NetnsLab: @unchecked Sendable {
    /// One node: a name, its namespace and its identity address.
    public struct Node: Sendable, Hashable {
        /// The node's name in the lab (`e1`, `c2`).
        public let name: String
        /// The network namespace (`/var/run/netns/NAMESPACE`).
        public let namespace: String
        /// The identity address, IPv4 dotted.
        public let address: String
    }

    /// The `ip` and `tc` binaries used.
    public static let ip = "/usr/sbin/ip"
    static let tc = "/usr/sbin/tc"
    /// Namespace names of every lab start with this.
    static let namePrefix = "fopl-"
    nonisolated(unsafe) private static var labCount = 0
    private static let countLock = NSLock()

    /// This lab's namespace prefix (`fopl-PID-N`).
    public let prefix: String
    /// A scratch directory for the lab's command files, and for its users' logs.
    public let directory: URL
    /// Every node, in creation order.
    public let nodes: [Node]
    /// Every link, as pairs of node names (each pair once, in creation order).
    public let links: [(String, String)]
    private let byName: [String: Node]
    private let lock = NSLock()
    /// The link ends dropping now: node name ➜ peer names.
    private var dropping: [String: Set<String>] = [:]
    private var tornDown = false

    /// Creates the namespaces, addresses, veth pairs and routes. `links` are pairs of node
    /// names; `NetnsLab.mesh` builds the usual controller/etcd mesh.
    public init(nodes names: [String], links: [(String, String)]) throws {
        guard getuid() == 0 else { throw HarnessError(.startFailed, "a netns lab needs root (ip netns, tc, setns)") }
        guard names.count < 255, Set(names).count == names.count else {
            throw HarnessError(.startFailed, "lab nodes must be unique and fewer than 255: \(names)")
        }
        Self.removeStaleLabs()
        let number = Self.countLock.withLock { () -> Int in
            Self.labCount += 1
            return Self.labCount
        }
        let prefix = "\(Self.namePrefix)\(getpid())-\(number)"
        self.prefix = prefix
        directory = try TemporaryDirectory.make(prefix: prefix)
        let subnet = number % 254 + 1
        nodes = names.enumerated().map { i, name in
            Node(name: name, namespace: "\(prefix)-\(name)", address: "10.213.\(subnet).\(i + 1)")
        }
        byName = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
        for (a, b) in links where byName[a] == nil || byName[b] == nil || a == b {
            throw HarnessError(.startFailed, "link \(a)–\(b) names an unknown node or loops")
        }
        self.links = links
        do {
            try build()
        } catch {
            teardown()
            throw error
        }
    }

    /// A lab where every node of `left` links to every node of `right` and the nodes of
    /// `right` link to each other: `mesh(clients: ["c1", ...], servers: ["e1", ...])`.
    public static func mesh(clients: [String], servers: [String]) throws -> NetnsLab {
        var links: [(String, String)] = []
        for (i, a) in servers.enumerated() { for b in servers[(i + 1)...] { links.append((a, b)) } }
        for c in clients { for s in servers { links.append((c, s)) } }
        return try NetnsLab(nodes: servers + clients, links: links)
    }

    deinit { teardown() }

    /// The node named `name`; a programming error when there is none.
    public subscript(name: String) -> Node {
        guard let node = byName[name] else { preconditionFailure("no lab node \(name)") }
        return node
    }

    /// `argv` run inside `node`'s namespace (`ip netns exec NS argv`, which execs `argv`,
    /// so a spawned pid is the command's own).
    public func command(in node: String, _ argv: [String]) -> [String] {
        [Self.ip, "netns", "exec", self[node].namespace] + argv
    }

    /// Spawns `argv` inside `node`'s namespace with this process's environment plus `env`,
    /// its output appended to `outputPath`.
    public func spawn(in node: String, _ argv: [String], env: [String: String] = [:], outputPath: String) throws
        -> ChildProcess
    {
        try ChildProcess(
            command(in: node, argv), environment: ProcessInfo.processInfo.environment.merging(env) { $1 },
            outputPath: outputPath)
    }

    /// Runs `argv` inside `node`'s namespace to its end; throws with its stderr when it fails.
    @discardableResult
    public func run(in node: String, _ argv: [String]) throws -> String {
        try Self.check(command(in: node, argv))
    }

    /// Deletes every namespace of this lab, first killing (SIGKILL, by pid) any process
    /// still inside one. Idempotent.
    public func teardown() {
        let first = lock.withLock { () -> Bool in
            defer { tornDown = true }
            return !tornDown
        }
        guard first else { return }
        for node in nodes { Self.remove(namespace: node.namespace) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` on the dropping link ends under the lab's lock.
    func lockedDropping<T>(_ body: (inout [String: Set<String>]) -> T) -> T { lock.withLock { body(&dropping) } }

    // MARK: building

    private func build() throws {
        for node in nodes {
            try Self.check([Self.ip, "netns", "add", node.namespace])
        }
        // The veths, created in their namespaces: one batch in the root namespace.
        let pairs = links.map { a, b in
            "link add to-\(b) netns \(self[a].namespace) type veth peer name to-\(a) netns \(self[b].namespace)"
        }
        try batch(Self.ip, lines: pairs, name: "links")
        for node in nodes {
            let peers = peers(of: node.name)
            var lines = ["link set lo up", "address add \(node.address)/32 dev lo"]
            lines += peers.map { "link set to-\($0) up" }
            lines += peers.map { "route add \(self[$0].address)/32 dev to-\($0) src \(node.address)" }
            try batch(Self.ip, lines: lines, name: "addresses-\(node.name)", in: node.name)
        }
    }

    /// The nodes `name` has a link to.
    public func peers(of name: String) -> [String] {
        links.compactMap { a, b in a == name ? b : (b == name ? a : nil) }
    }

    /// Runs `lines` as one `-batch` file of `tool`, in `node`'s namespace or the root one.
    func batch(_ tool: String, lines: [String], name: String, in node: String? = nil) throws {
        let file = directory.appendingPathComponent("\(name).batch").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let argv = [tool, "-batch", file]
        try Self.check(node.map { command(in: $0, argv) } ?? argv)
    }

    /// Runs `argv` to its end; its stdout, or a `HarnessError` with its stderr.
    @discardableResult
    static func check(_ argv: [String]) throws -> String {
        let result = try ChildProcess.run(argv, environment: ProcessInfo.processInfo.environment)
        guard result.status == 0 else {
            throw HarnessError(.command, "\(argv.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    // MARK: cleanup

    /// Deletes the namespaces of labs whose process is gone (a crashed earlier run).
    static func removeStaleLabs() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns")) ?? []
        for name in names where name.hasPrefix(namePrefix) {
            let fields = name.dropFirst(namePrefix.count).split(separator: "-")
            guard let pid = fields.first.flatMap({ pid_t($0) }), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }  // its process still lives
            remove(namespace: name)
        }
    }

    /// Kills every process inside `namespace` by pid, then deletes it.
    static func remove(namespace: String) {
        let pids = (try? check([ip, "netns", "pids", namespace])) ?? ""
        for pid in pids.split(whereSeparator: \.isNewline).compactMap({ pid_t($0) }) where pid != getpid() {
            kill(pid, SIGKILL)
        }
        _ = try? check([ip, "netns", "del", namespace])
    }
}
