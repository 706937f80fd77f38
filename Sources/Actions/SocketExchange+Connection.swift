import FailoverCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The blocking side of `SocketExchange`, run on its dedicated thread: a non-blocking
/// socket driven by `poll` on the socket and the wake pipe until the deadline.
struct SocketConnection {
    private let fd: Int32
    private let deadline: ContinuousClock.Instant
    private let wake: WakePipe

    /// What a wait for the socket ended with.
    private enum Wait {
        case ready
        case timedOut
        case cancelled
    }

    /// Connects, sends `line`, reads the reply; nil when cancelled.
    static func run(
        _ line: String, address: HAProxyOptions.Admin, deadline: ContinuousClock.Instant, wake: WakePipe
    ) -> Result<String, SocketExchange.Failure>? {
        let fd: Int32
        do {
            fd = try open(address)
        } catch {
            return .failure(error)
        }
        defer { _ = Glibc.close(fd) }
        let connection = SocketConnection(fd: fd, deadline: deadline, wake: wake)
        do throws(Stop) {
            try connection.connect(address)
            try connection.send(Array((line + "\n").utf8))
            return .success(try connection.readAll())
        } catch {
            switch error {
            case .cancelled: return nil
            case .failed(let failure): return .failure(failure)
            }
        }
    }

    private enum Stop: Error {
        case cancelled
        case failed(SocketExchange.Failure)
    }

    /// A non-blocking, close-on-exec stream socket of `address`'s family.
    private static func open(_ address: HAProxyOptions.Admin) throws(SocketExchange.Failure) -> Int32 {
        let family: Int32
        switch address {
        case .tcp(let host, _): family = host.contains(":") ? AF_INET6 : AF_INET
        case .unix: family = AF_UNIX
        }
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(family, type, 0)
        guard fd >= 0 else { throw .setup("socket: \(Self.errnoText())") }
        return fd
    }

    private func connect(_ address: HAProxyOptions.Admin) throws(Stop) {
        // The closure answers 0 or the connect's errno (read before anything can change it).
        let started = SocketAddress.withAddress(address) { Glibc.connect(fd, $0, $1) == 0 ? 0 : errno }
        switch started {
        case .failure(let failure): throw .failed(failure)
        case .success(0): return
        case .success(let code):
            guard code == EINPROGRESS || code == EAGAIN else {
                throw .failed(.connect(String(cString: strerror(code))))
            }
        }
        try waitOrStop(for: Int16(POLLOUT), phase: "connect")
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else { throw .failed(.connect(String(cString: strerror(error)))) }
    }

    private func send(_ bytes: [UInt8]) throws(Stop) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
            } else if sent < 0 && (errno == EAGAIN || errno == EINTR) {
                try waitOrStop(for: Int16(POLLOUT), phase: "send")
            } else {
                throw .failed(.io("send: \(Self.errnoText())"))
            }
        }
    }

    private func readAll() throws(Stop) -> String {
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                reply.append(contentsOf: buffer[0..<count])
                guard reply.count <= SocketExchange.replyLimit else { throw .failed(.tooLarge(reply.count)) }
            } else if count == 0 {
                return String(decoding: reply, as: UTF8.self)
            } else if errno == EAGAIN || errno == EINTR {
                try waitOrStop(for: Int16(POLLIN), phase: "reply")
            } else {
                throw .failed(.io("read: \(Self.errnoText())"))
            }
        }
    }

    /// Polls the socket for `events` and the wake pipe, until the deadline.
    private func waitOrStop(for events: Int16, phase: String) throws(Stop) {
        switch wait(for: events) {
        case .ready: return
        case .timedOut: throw .failed(.timedOut(phase: phase))
        case .cancelled: throw .cancelled
        }
    }

    private func wait(for events: Int16) -> Wait {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return .timedOut }
            var fds = [
                pollfd(fd: fd, events: events, revents: 0), pollfd(fd: wake.readEnd, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, Int32(clamping: max(1, left.milliseconds)))
            if ready < 0 && errno != EINTR { return .ready }  // let the next call report the error
            if fds[1].revents != 0 { return .cancelled }
            if fds[0].revents != 0 { return .ready }
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// `sockaddr` values for the runtime API's addresses.
enum SocketAddress {
    /// Calls `body` with the address and its length; a failure says why there is none.
    static func withAddress(
        _ address: HAProxyOptions.Admin, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Result<Int32, SocketExchange.Failure> {
        switch address {
        case .unix(let path):
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
                return .failure(.setup("socket path too long"))
            }
            withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
            return .success(
                withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                })
        case .tcp(let host, let port):
            return withResolved(host: host, port: port, body)
        }
    }

    /// Resolves `host` (a literal or a name; this runs on the exchange's own thread) and
    /// calls `body` with its first address.
    private static func withResolved(
        host: String, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Result<Int32, SocketExchange.Failure> {
        var hints = addrinfo()
        hints.ai_family = host.contains(":") ? AF_INET6 : AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list, let addr = first.pointee.ai_addr else {
            return .failure(.setup("cannot resolve \(host): \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(list) }
        return .success(body(addr, first.pointee.ai_addrlen))
    }
}
