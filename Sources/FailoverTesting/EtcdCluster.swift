import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real etcd 3.4 cluster (`/usr/bin/etcd`) of `size` members on loopback, each with its
/// data in one temporary directory and free client and peer ports.
///
/// `init` waits until every member reports healthy; a cluster that cannot start throws with
/// every member's log. Members are stopped by their own pid only (`kill(member:)` sends
/// SIGKILL, `stop()` SIGTERM to all).
public final class EtcdCluster: @unchecked Sendable {
    /// The etcd binary used.
    public static let executable = "/usr/bin/etcd"

    /// The directory holding every member's data and log.
    public let directory: URL
    /// Each member's client URL (`http://127.0.0.1:PORT`), in member order.
    public let endpoints: [String]
    private let clientPorts: [Int]
    /// With TLS: the CA file, and a client certificate and key of the test CA.
    let client: (ca: String, cert: String, key: String)?
    private var members: [ServerProcess?]

    /// Starts `size` members and waits until each answers `/health` with `true`. With
    /// `tls`, clients must connect over HTTPS with a certificate of that test CA
    /// (`--client-cert-auth`); the members' own certificate is its leaf `etcd`.
    public init(size: Int = 3, tls: TestCertificates? = nil, timeout: Duration = .seconds(30)) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw HarnessError(.startFailed, "\(Self.executable) not found (scripts/install-deps.sh installs etcd-server)")
        }
        directory = try TemporaryDirectory.make(prefix: "fo-etcd")
        let names = (1...size).map { "m\($0)" }
        let clientPorts = try names.map { _ in try FreePort.tcp() }
        let peerPorts = try names.map { _ in try FreePort.tcp() }
        self.clientPorts = clientPorts
        let scheme = tls == nil ? "http" : "https"
        endpoints = clientPorts.map { "\(scheme)://127.0.0.1:\($0)" }
        var tlsArguments: [String] = []
        var client: (ca: String, cert: String, key: String)?
        if let tls {
            let leaf = try tls.leaf(name: "etcd", days: 30)
            tlsArguments = ["--cert-file", leaf.cert, "--key-file", leaf.key, "--client-cert-auth", "--trusted-ca-file", tls.caFile]
            let own = try tls.leaf(name: "etcd-health-client", days: 30)
            client = (tls.caFile, own.cert, own.key)
        }
        self.client = client
        let cluster = zip(names, peerPorts).map { "\($0)=http://127.0.0.1:\($1)" }.joined(separator: ",")
        let token = "fo-\(UUID().uuidString.prefix(8))"
        var started: [ServerProcess?] = []
        for (index, name) in names.enumerated() {
            let client = "\(scheme)://127.0.0.1:\(clientPorts[index])"
            let peer = "http://127.0.0.1:\(peerPorts[index])"
            started.append(
                try ServerProcess(
                    name: "etcd-\(name)", executable: Self.executable,
                    arguments: [
                        "--name", name, "--data-dir", directory.appendingPathComponent(name).path,
                        "--listen-client-urls", client, "--advertise-client-urls", client,
                        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                        "--initial-cluster", cluster, "--initial-cluster-token", token,
                        "--initial-cluster-state", "new", "--heartbeat-interval", "100", "--election-timeout", "1000",
                        "--logger", "zap", "--log-level", "warn",
                    ] + tlsArguments,
                    workingDirectory: directory, logDirectory: directory))
        }
        members = started
        do {
            for index in names.indices {
                try started[index]?.waitUntilReady(timeout: timeout) { [clientPorts] in
                    Self.healthy(port: clientPorts[index], client: client)
                }
            }
        } catch {
            let logs = started.compactMap { $0?.logTail(lines: 30) }.joined(separator: "\n")
            stop()
            throw HarnessError(.notReady, "etcd cluster of \(size) did not become healthy: \(error)", log: logs)
        }
    }

    /// `init` for async tests: starts the cluster without blocking the cooperative pool.
    public static func start(size: Int = 3, timeout: Duration = .seconds(30)) async throws -> EtcdCluster {
        try await Blocking.run { try EtcdCluster(size: size, timeout: timeout) }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Kills member `index` (0-based) with SIGKILL, as a crashed host would stop.
    public func kill(member index: Int) {
        guard index < members.count, let member = members[index] else { return }
        if member.isRunning { Glibc.kill(member.pid, SIGKILL) }
        _ = member.stop(grace: .zero)
        members[index] = nil
    }

    /// Stops every member still running (SIGTERM, then SIGKILL after a grace period).
    public func stop() {
        for index in members.indices {
            members[index]?.stop(grace: .seconds(3))
            members[index] = nil
        }
    }

    /// Whether member `index` answers `/health` with `true`.
    public func isHealthy(member index: Int) -> Bool { Self.healthy(port: clientPorts[index], client: client) }

    /// Every running member's log tail.
    public func logs(lines: Int = 40) -> String {
        members.compactMap { $0?.logTail(lines: lines) }.joined(separator: "\n")
    }

    /// `GET /health` (through curl with TLS): etcd answers `{"health":"true"}` once it has a leader.
    static func healthy(port: Int, client: (ca: String, cert: String, key: String)?) -> Bool {
        if client == nil {
            guard let reply = LoopbackHTTP.get(port: port, path: "/health", timeout: .seconds(1)), reply.status == 200 else { return false }
            return String(decoding: reply.body, as: UTF8.self).contains("\"health\":\"true\"")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        if let client {
            p.arguments = [
                "-sf", "--max-time", "1", "--cacert", client.ca, "--cert", client.cert, "--key", client.key,
                "https://127.0.0.1:\(port)/health",
            ]
        } else {
            p.arguments = ["-sf", "--max-time", "1", "http://127.0.0.1:\(port)/health"]
        }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 && String(decoding: data, as: UTF8.self).contains("\"health\":\"true\"")
    }
}
