import FailoverCore
import Foundation
import ServiceLifecycle

/// One request as the API sees it: method, path, decoded query parameters, headers
/// (names in lower case) and body.
struct APIRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    var headers: [String: String] = [:]
    var body = Data()
}

/// One answer: a status and a JSON (or text) body (an `Error` too, so a parse failure can carry its reply).
struct APIReply: Error, Sendable {
    var status: Int
    var contentType = "application/json"
    /// Headers sent after the fixed ones (e.g. the status page's `Content-Security-Policy`).
    var headers: [(name: String, value: String)] = []
    var body: Data

    /// `{"error": message}` with `status`.
    static func error(_ status: Int, _ message: String) -> APIReply {
        let text = (try? JSONEncoder().encode(["error": message])) ?? Data()
        return APIReply(status: status, body: text)
    }
}

/// A deliberately small HTTP/1.1 server for the controller's read-only API.
///
/// It speaks just enough HTTP for `curl`, the CLI and a Prometheus scraper: one request
/// per connection (`Connection: close`), `GET`/`HEAD` and `POST` with a `Content-Length`
/// body (the commands), a 16 KiB limit on head and body together, a
/// 5 s read/write timeout and at most 32 connections at once; anything else gets a
/// plain error status. It costs no event-loop threads and little memory, which keeps an
/// idle controller small (see docs/benchmarks.md).
final class StatusHTTPServer: Service, @unchecked Sendable, CustomStringConvertible {
    typealias Handler = @Sendable (APIRequest) async -> APIReply

    private let address: ListenAddress
    private let handler: Handler
    private let onRunning: @Sendable () async -> Void
    private let lock = NSLock()
    private var active = 0

    static let maxConnections = 32
    static let maxRequestBytes = 16 * 1_024
    static let ioTimeoutSeconds = 5

    var description: String { "StatusHTTPServer(\(address))" }

    init(
        address: ListenAddress, onRunning: @escaping @Sendable () async -> Void,
        handler: @escaping Handler
    ) {
        self.address = address
        self.onRunning = onRunning
        self.handler = handler
    }

    func run() async throws {
        let fd = try Self.listen(on: address)
        let stopped = DispatchSemaphore(value: 0)
        let acceptor = Thread { [self] in
            acceptLoop(fd)
            stopped.signal()
        }
        acceptor.name = "failoverctl-api"
        acceptor.start()
        await onRunning()
        try? await gracefulShutdown()
        // Wake the blocked accept(), wait for the loop to end, then release the descriptor.
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                stopped.wait()
                continuation.resume()
            }
        }
        _ = Glibc.close(fd)
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let admitted = lock.withLock {
                guard active < Self.maxConnections else { return false }
                active += 1
                return true
            }
            guard admitted else {
                Self.write(APIReply.error(503, "too many connections"), head: false, to: client)
                _ = Glibc.close(client)
                continue
            }
            let thread = Thread { [self] in
                serve(client)
                _ = Glibc.close(client)
                lock.withLock { active -= 1 }
            }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        var timeout = timeval(tv_sec: Self.ioTimeoutSeconds, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            _ = setsockopt(client, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        let request: APIRequest
        switch Self.readRequest(client) {
        case .success(let parsed): request = parsed
        case .failure(let reply):
            Self.write(reply, head: false, to: client)
            return
        }
        guard ["GET", "HEAD", "POST"].contains(request.method) else {
            Self.write(.error(405, "only GET, HEAD and POST"), head: false, to: client)
            return
        }
        let reply = ReplyBox()
        let done = DispatchSemaphore(value: 0)
        Task { [handler] in
            reply.value = await handler(request)
            done.signal()
        }
        // This is a plain thread, not a concurrency one: waiting here blocks nothing else.
        if done.wait(timeout: .now() + .seconds(Self.ioTimeoutSeconds * 2)) == .timedOut {
            Self.write(.error(503, "the controller did not answer in time"), head: false, to: client)
            return
        }
        Self.write(reply.value ?? .error(500, "no reply"), head: request.method == "HEAD", to: client)
    }
}

/// The reply handed from the handler's task to the connection's thread.
private final class ReplyBox: @unchecked Sendable {
    var value: APIReply?
}

extension StatusHTTPServer {
    /// Binds and listens on `address` (a name, an IPv4 or an IPv6 literal).
    static func listen(on address: ListenAddress) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &list) == 0, let info = list?.pointee,
            let socketAddress = info.ai_addr
        else {
            throw ListenError(address: address, reason: "cannot resolve \(address.host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(info.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(address: address, reason: String(cString: strerror(errno))) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, socketAddress, info.ai_addrlen) == 0, Glibc.listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(fd)
            throw ListenError(address: address, reason: reason)
        }
        return fd
    }

    /// Reads the request head and the `Content-Length` body that follows it, and parses them.
    static func readRequest(_ client: Int32) -> Result<APIRequest, APIReply> {
        var buffer = [UInt8]()
        let end: [UInt8] = [13, 10, 13, 10]
        // One deadline for the whole request, so a client trickling bytes cannot hold a slot.
        let deadline = ContinuousClock.now + .seconds(ioTimeoutSeconds)
        while buffer.count < maxRequestBytes {
            guard ContinuousClock.now < deadline, receive(client, into: &buffer) else {
                return .failure(.error(408, "incomplete request"))
            }
            guard let headEnd = buffer.firstRange(of: end) else { continue }
            var request: APIRequest
            switch parse(head: String(decoding: buffer[..<headEnd.lowerBound], as: UTF8.self)) {
            case .success(let parsed): request = parsed
            case .failure(let reply): return .failure(reply)
            }
            let length = Int(request.headers["content-length"] ?? "0") ?? -1
            guard length >= 0 else { return .failure(.error(400, "malformed Content-Length")) }
            // Compared before adding: a huge Content-Length must not overflow.
            guard length <= maxRequestBytes, headEnd.upperBound + length <= maxRequestBytes else {
                return .failure(.error(413, "request larger than \(maxRequestBytes) bytes"))
            }
            while buffer.count < headEnd.upperBound + length {
                guard ContinuousClock.now < deadline, receive(client, into: &buffer) else {
                    return .failure(.error(408, "incomplete request body"))
                }
            }
            request.body = Data(buffer[headEnd.upperBound..<(headEnd.upperBound + length)])
            return .success(request)
        }
        return .failure(.error(431, "request head larger than \(maxRequestBytes) bytes"))
    }

    /// Appends what one `recv` returns; false on end of stream, error or timeout.
    private static func receive(_ client: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4_096)
        let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    /// Parses `METHOD /path?query HTTP/1.x` and the header lines.
    static func parse(head: String) -> Result<APIRequest, APIReply> {
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.first ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else {
            return .failure(.error(400, "malformed request line"))
        }
        let target = parts[1]
        let pathPart = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let path = decode(pathPart[0]) else { return .failure(.error(400, "malformed path")) }
        var query: [String: String] = [:]
        if pathPart.count == 2 {
            for item in pathPart[1].split(separator: "&") {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = decode(pair[0]), let value = decode(pair.count == 2 ? pair[1] : "") else {
                    return .failure(.error(400, "malformed query"))
                }
                query[name] = value
            }
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return .failure(.error(400, "malformed header line")) }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return .success(APIRequest(method: String(parts[0]), path: path, query: query, headers: headers))
    }

    private static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    static func write(_ reply: APIReply, head: Bool, to client: Int32) {
        let reason = [200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 413: "Content Too Large",
            431: "Request Header Fields Too Large", 500: "Internal Server Error", 503: "Service Unavailable"][reply.status]
            ?? "Status"
        let extra = reply.headers.map { "\($0.name): \($0.value)\r\n" }.joined()
        let headText = "HTTP/1.1 \(reply.status) \(reason)\r\nContent-Type: \(reply.contentType)\r\n"
            + "Content-Length: \(reply.body.count)\r\nConnection: close\r\nServer: failoverctl\r\n\(extra)\r\n"
        var bytes = Data(headText.utf8)
        if !head { bytes.append(reply.body) }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(client, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return }
                offset += sent
            }
        }
    }
}

/// The API address could not be bound.
struct ListenError: Error, CustomStringConvertible {
    let address: ListenAddress
    let reason: String

    var description: String { "cannot listen on \(address): \(reason)" }
}
