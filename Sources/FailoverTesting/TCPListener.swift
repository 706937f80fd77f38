import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Free loopback ports, found by binding port 0.
public enum FreePort {
    /// A TCP port on 127.0.0.1 that was free a moment ago.
    public static func tcp() throws -> Int {
        let (fd, port) = try LoopbackSocket.listen(port: 0)
        _ = Glibc.close(fd)
        return port
    }

    /// Whether a TCP connect to `host:port` succeeds right now (IPv4 literal).
    public static func accepts(port: Int, host: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { _ = Glibc.close(fd) }
        var addr = LoopbackSocket.address(host: host, port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return connected == 0
    }
}

/// A plain TCP listener on 127.0.0.1 whose thread accepts every connection and closes it
/// at once, for `tcp` checks that should pass. `close()` makes later connects fail with
/// "connection refused".
public final class TCPListener: @unchecked Sendable {
    /// The port it listens on.
    public let port: Int
    private let loop: AcceptLoop

    /// Listens on `port` (0: any free port).
    public init(port: Int = 0) throws {
        let (fd, bound) = try LoopbackSocket.listen(port: port)
        self.port = bound
        loop = AcceptLoop(fd: fd, holdConnections: false, name: "tcp-listener-\(bound)")
    }

    /// How many connections were accepted so far.
    public var acceptedConnections: Int { loop.acceptedCount }

    /// Stops listening: later connects are refused. Idempotent.
    public func close() { loop.close() }

    deinit { loop.close() }
}

/// A TCP server on 127.0.0.1 that accepts connections and never answers: it reads
/// nothing, writes nothing and holds every connection open until `close()`. Probes of it
/// connect but then wait for an answer until their timeout.
public final class HangingServer: @unchecked Sendable {
    /// The port it listens on.
    public let port: Int
    private let loop: AcceptLoop

    /// Listens on `port` (0: any free port).
    public init(port: Int = 0) throws {
        let (fd, bound) = try LoopbackSocket.listen(port: port)
        self.port = bound
        loop = AcceptLoop(fd: fd, holdConnections: true, name: "hanging-server-\(bound)")
    }

    /// How many connections were accepted so far.
    public var acceptedConnections: Int { loop.acceptedCount }

    /// Waits until at least `count` connections were accepted, polling every 5 ms;
    /// false when `timeout` passes first.
    public func waitForConnections(_ count: Int = 1, timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while loop.acceptedCount < count {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Stops listening and closes every held connection. Idempotent.
    public func close() { loop.close() }

    deinit { loop.close() }
}

/// The accepting thread of a listener. The thread owns this object, not the listener,
/// so a listener can be released while its thread runs.
final class AcceptLoop: @unchecked Sendable {
    private let fd: Int32
    private let holdConnections: Bool
    private let lock = NSLock()
    private var closed = false
    private var held: [Int32] = []
    private var accepted = 0
    private let finished = DispatchSemaphore(value: 0)

    init(fd: Int32, holdConnections: Bool, name: String) {
        self.fd = fd
        self.holdConnections = holdConnections
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    var acceptedCount: Int { lock.withLock { accepted } }

    private func run() {
        defer { finished.signal() }
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // shut down by close(), or the socket is unusable
            }
            // Keep servers the tests start from inheriting it (and the port staying open).
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            let keep = lock.withLock { () -> Bool in
                accepted += 1
                guard holdConnections, !closed else { return false }
                held.append(client)
                return true
            }
            if !keep { _ = Glibc.close(client) }
        }
    }

    /// Wakes the thread (shutdown makes a blocked `accept` fail on Linux), waits for it,
    /// then closes the listening socket and every held connection.
    func close() {
        let first = lock.withLock { () -> Bool in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        _ = shutdown(fd, Int32(SHUT_RDWR))
        // Close only after the thread is gone, so it never accepts on a reused descriptor.
        _ = finished.wait(timeout: .now() + 5)
        _ = Glibc.close(fd)
        let clients = lock.withLock { () -> [Int32] in
            defer { held = [] }
            return held
        }
        for client in clients { _ = Glibc.close(client) }
    }
}

/// Listening sockets on 127.0.0.1.
enum LoopbackSocket {
    /// A close-on-exec socket bound to `port` (0: any) with SO_REUSEADDR, listening with
    /// a backlog of 128; returns it and the bound port.
    static func listen(port: Int) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError(.system, "socket: \(String(cString: strerror(errno)))") }
        try bindAndListen(fd, host: "127.0.0.1", port: port, where: "")
        var addr = address(host: "127.0.0.1", port: port)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    /// Binds `fd` to `host:port` (address reuse on) and listens; closes `fd` and throws
    /// when it cannot (`where`: how the message places it, e.g. ` in east`).
    static func bindAndListen(_ fd: Int32, host: String, port: Int, where place: String) throws {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = address(host: host, port: port)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(fd)
            throw HarnessError(.system, "cannot listen on \(host):\(port)\(place): \(reason)")
        }
    }

    static func address(host: String, port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        addr.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
        return addr
    }
}
