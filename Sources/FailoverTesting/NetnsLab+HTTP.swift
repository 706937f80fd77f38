import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension NetnsLab {
    /// A plain HTTP/1.1 answer.
    public struct HTTPReply: Sendable {
        /// The status code.
        public let status: Int
        /// The body.
        public let body: Data
        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// A blocking HTTP/1.1 request from inside `node`'s namespace to `host:port` (default
    /// the node's own loopback), with `Connection: close`; nil when nothing answered within
    /// `timeout` (refused, reset, silent). The test process itself stays in the root
    /// namespace: only the socket is made in the node's (see `socket(in:)`).
    public func http(
        _ node: String, method: String = "GET", host: String = "127.0.0.1", port: Int, path: String,
        headers: [String: String] = [:], body: Data = Data(), timeout: Duration = .seconds(2)
    ) -> HTTPReply? {
        guard let fd = try? socket(in: node) else { return nil }
        defer { _ = Glibc.close(fd) }
        var limit = timeval(
            tv_sec: Int(timeout.milliseconds / 1_000), tv_usec: Int(timeout.milliseconds % 1_000) * 1_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        // Linux bounds a blocking connect by SO_SNDTIMEO too: a dropped SYN ends in time.
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var addr = LoopbackSocket.address(host: host, port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method != "GET" { head += "Content-Length: \(body.count)\r\n" }
        let request = Array((head + "\r\n").utf8) + Array(body)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else {
            return nil
        }
        return LoopbackHTTP.readReply(fd, until: ContinuousClock.now + timeout).map { HTTPReply(status: $0.status, body: $0.body) }
    }

    /// `GET path` decoded as JSON, or nil when not answered with 200 and JSON.
    public func json(_ node: String, port: Int, path: String, timeout: Duration = .seconds(2)) -> Any? {
        guard let reply = http(node, port: port, path: path, timeout: timeout), reply.status == 200 else { return nil }
        return try? JSONSerialization.jsonObject(with: reply.body)
    }


    /// A TCP socket (close-on-exec) of `node`'s network namespace. A socket keeps the
    /// namespace it was made in, so a fresh thread enters the namespace (`setns`: the
    /// network namespace is per thread), makes the socket and ends; the caller uses the
    /// socket from wherever it runs.
    public func socket(in node: String) throws -> Int32 {
        let path = "/var/run/netns/\(self[node].namespace)"
        let result = SocketResult()
        let thread = Thread {
            result.finish(Self.makeSocket(namespacePath: path))
        }
        thread.name = "netns-socket"
        thread.start()
        return try result.wait().get()
    }

    private static func makeSocket(namespacePath: String) -> Result<Int32, HarnessError> {
        let ns = open(namespacePath, O_RDONLY | O_CLOEXEC)
        guard ns >= 0 else {
            return .failure(HarnessError(.system, "open \(namespacePath): \(String(cString: strerror(errno)))"))
        }
        defer { _ = Glibc.close(ns) }
        guard let setns = setnsCall, setns(ns, cloneNewNet) == 0 else {
            return .failure(HarnessError(.system, "setns \(namespacePath): \(String(cString: strerror(errno)))"))
        }
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(HarnessError(.system, "socket: \(String(cString: strerror(errno)))")) }
        return .success(fd)
    }

    /// `CLONE_NEWNET` (sched.h), which the Glibc module does not export.
    private static let cloneNewNet: Int32 = 0x4000_0000
    /// glibc's `setns`, which the Glibc module does not export either: looked up once.
    private static let setnsCall: (@convention(c) (Int32, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()
}

/// A socket made on another thread, handed over once.
private final class SocketResult: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Int32, HarnessError> = .failure(HarnessError(.system, "no socket"))

    func finish(_ value: Result<Int32, HarnessError>) {
        result = value
        done.signal()
    }

    func wait() -> Result<Int32, HarnessError> {
        done.wait()
        return result
    }
}
