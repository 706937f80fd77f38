import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking HTTP/1.1 `GET` to `127.0.0.1:port` in this process, for tests that poll a
/// controller's API many times a second: no `curl` child per poll (each child is one more
/// chance for Foundation's `Process` to miss its exit and hang `waitUntilExit`).
public enum LoopbackHTTP {
    /// `GET path` with `Connection: close`; the status and body, or nil when nothing
    /// answered within `timeout` (refused, reset, silent).
    public static func get(port: Int, path: String, timeout: Duration = .seconds(2)) -> (status: Int, body: Data)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { _ = Glibc.close(fd) }
        var limit = timeval(tv_sec: Int(timeout.milliseconds / 1_000), tv_usec: Int(timeout.milliseconds % 1_000) * 1_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var addr = LoopbackSocket.address(host: "127.0.0.1", port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        return readReply(fd, until: ContinuousClock.now + timeout)
    }

    /// Reads an HTTP/1.1 reply on `fd` until the server closes (`Connection: close`) or
    /// `deadline`; its status and body, or nil for an error or no reply.
    static func readReply(_ fd: Int32, until deadline: ContinuousClock.Instant) -> (status: Int, body: Data)? {
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while ContinuousClock.now < deadline {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { response.append(contentsOf: buffer[0..<n]) } else if n == 0 { break } else { return nil }
        }
        guard let split = response.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: response[..<split.lowerBound], as: UTF8.self)
        let parts = head.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        return (status, Data(response[split.upperBound...]))
    }
}
