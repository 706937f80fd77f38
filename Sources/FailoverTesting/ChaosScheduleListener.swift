import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP listener on a `NetnsLab` node's identity address, inside that node's namespace:
/// a site every controller of the lab probes with a `tcp` check over its own link. Its
/// thread accepts every connection and closes it at once. `stop()` closes the listening
/// socket, so every controller's next connect is refused at the same moment (the site
/// failed for all of them); `start()` listens again on the same address and port.
public final class NetnsTCPListener: @unchecked Sendable {
    /// The lab node it listens in.
    public let node: String
    /// The node's identity address.
    public let address: String
    /// The port.
    public let port: Int
    private let lab: NetnsLab
    private let lock = NSLock()
    private var loop: AcceptLoop?

    /// Listens on `node`'s identity address and `port` in `lab`.
    public init(lab: NetnsLab, node: String, port: Int) throws {
        self.lab = lab
        self.node = node
        address = lab[node].address
        self.port = port
        try start()
    }

    deinit { stop() }

    /// Whether it listens now.
    public var isListening: Bool { lock.withLock { loop != nil } }

    /// Listens again (a no-op while listening). SO_REUSEADDR: the closed connections'
    /// TIME_WAIT entries do not keep the port.
    public func start() throws {
        try lock.withLock {
            guard loop == nil else { return }
            let fd = try lab.socket(in: node)
            try LoopbackSocket.bindAndListen(fd, host: address, port: port, where: " in \(node)")
            loop = AcceptLoop(fd: fd, holdConnections: false, name: "netns-listener-\(node)")
        }
    }

    /// Stops listening: every later connect is refused. Idempotent.
    public func stop() {
        let current = lock.withLock { () -> AcceptLoop? in
            defer { loop = nil }
            return loop
        }
        current?.close()
    }
}
