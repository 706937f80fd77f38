import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real HAProxy (`/usr/sbin/haproxy -db`, everything in its own temporary directory)
/// with a TCP frontend on a free port and a backend `web` of two servers, `east` and
/// `west`, each pointing at its own local listener that holds connections open (so a client
/// connected through the frontend is a current session, `scur`, until it closes).
///
/// The runtime API listens at level admin on `stats socket ipv4@127.0.0.1:PORT` and on a
/// unix socket in the directory. `init` waits until the API answers; a server that cannot
/// start throws with its log. It is stopped by its pid only.
public final class HAProxyServer: @unchecked Sendable {
    /// The HAProxy binary used.
    public static let executable = "/usr/sbin/haproxy"
    /// The backend's name.
    public static let backend = "web"
    /// Its servers, in order.
    public static let servers = ["east", "west"]

    /// The directory holding the config, the log and the unix socket.
    public let directory: URL
    /// The runtime API's TCP port on 127.0.0.1.
    public let adminPort: Int
    /// The runtime API's unix socket path.
    public let adminSocket: String
    /// The frontend's port (TCP mode, balancing over `web`).
    public let frontendPort: Int
    /// The listeners behind `east` and `west`.
    public let listeners: [HangingServer]
    private let process: ServerProcess

    /// Writes the config, starts HAProxy and waits until the runtime API answers.
    public init(timeout: Duration = .seconds(30)) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw HarnessError(.startFailed, "\(Self.executable) not found (scripts/install-deps.sh installs haproxy)")
        }
        directory = try TemporaryDirectory.make(prefix: "fo-haproxy")
        adminPort = try FreePort.tcp()
        frontendPort = try FreePort.tcp()
        adminSocket = directory.appendingPathComponent("admin.sock").path
        listeners = try Self.servers.map { _ in try HangingServer() }
        let config = directory.appendingPathComponent("haproxy.cfg").path
        try Self.configText(
            adminPort: adminPort, adminSocket: adminSocket, frontendPort: frontendPort, listeners: listeners
        )
        .write(toFile: config, atomically: true, encoding: .utf8)
        process = try ServerProcess(
            name: "haproxy", executable: Self.executable, arguments: ["-db", "-f", config],
            workingDirectory: directory, logDirectory: directory)
        try process.waitUntilReady(timeout: timeout) { [adminPort] in
            (try? Self.query("show info", port: adminPort))?.contains("Name: HAProxy") == true
        }
    }

    /// `init` for async tests: starts HAProxy without blocking the cooperative pool.
    public static func start(timeout: Duration = .seconds(30)) async throws -> HAProxyServer {
        try await Blocking.run { try HAProxyServer(timeout: timeout) }
    }

    deinit {
        process.stop()
        listeners.forEach { $0.close() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// `tcp:127.0.0.1:PORT`, as a site's `admin:` option names it.
    public var adminTCP: String { "tcp:127.0.0.1:\(adminPort)" }

    /// `srv_admin_state` of `server` in `web`, read with `show servers state web`.
    public func adminState(_ server: String) throws -> UInt32 {
        let reply = try Self.query("show servers state \(Self.backend)", port: adminPort)
        for line in reply.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
            if fields.count > 6, fields[3] == server, let state = UInt32(fields[6]) { return state }
        }
        throw HarnessError(.command, "show servers state \(Self.backend) has no \(server): \(reply)", log: logTail())
    }

    /// Sends one runtime-API command (e.g. to set up a state before a test) and returns the reply.
    @discardableResult
    public func command(_ line: String) throws -> String { try Self.query(line, port: adminPort) }

    /// The last lines of HAProxy's log, for failure messages.
    public func logTail(lines: Int = 60) -> String { process.logTail(lines: lines) }

    /// Stops HAProxy (SIGTERM to its pid, then SIGKILL); later connects are refused. Idempotent.
    public func stop() { process.stop() }

    private static func configText(adminPort: Int, adminSocket: String, frontendPort: Int, listeners: [HangingServer])
        -> String
    {
        let servers = zip(servers, listeners).map { name, listener in
            "    server \(name) 127.0.0.1:\(listener.port)"
        }.joined(separator: "\n")
        return """
            global
                stats socket ipv4@127.0.0.1:\(adminPort) level admin
                stats socket \(adminSocket) mode 600 level admin
                stats timeout 10s
            defaults
                mode tcp
                timeout connect 1s
                timeout client 30s
                timeout server 30s
                # A client that closes ends its session soon even though the listener
                # behind the server never closes its side.
                timeout client-fin 100ms
                timeout server-fin 100ms
            frontend fe
                bind 127.0.0.1:\(frontendPort)
                default_backend \(backend)
            backend \(backend)
                balance roundrobin
            \(servers)

            """
    }

    /// One runtime-API command over TCP, blocking (harness side only), bounded by `timeout`.
    public static func query(_ line: String, port: Int, timeout: Duration = .seconds(5)) throws -> String {
        try LoopbackExchange.exchange(Array((line + "\n").utf8), port: port, timeout: timeout)
    }
}

/// A blocking request/reply exchange with a loopback TCP server that closes after its
/// reply (HAProxy's runtime API, HTTP/1.0), for harness code that runs off the
/// cooperative pool.
public enum LoopbackExchange {
    /// Connects to 127.0.0.1:`port`, sends `bytes`, reads until the server closes.
    public static func exchange(_ bytes: [UInt8], port: Int, timeout: Duration) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError(.system, "socket: \(String(cString: strerror(errno)))") }
        defer { _ = Glibc.close(fd) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var addr = LoopbackSocket.address(host: "127.0.0.1", port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            throw HarnessError(.system, "connect 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw HarnessError(.system, "send to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return String(decoding: reply, as: UTF8.self) }
            guard count > 0 else {
                throw HarnessError(.system, "read from 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
            }
            reply.append(contentsOf: buffer[0..<count])
        }
    }
}
