import Foundation
import Synchronization

/// A small HTTP/1.1 server on 127.0.0.1 that plays a third-party API in tests (PagerDuty,
/// Slack, a webhook): every request goes to `handler`, which follows the documented
/// contract; every request is recorded; and faults can be queued for the next requests
/// (an error status, 429 with `Retry-After`, a slow reply, a reset connection).
public final class ContractServer: @unchecked Sendable {
    /// One request as received.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: Data

        /// The body as text.
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON object, when it is one.
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    /// An answer.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String

        /// Creates a reply.
        public init(_ status: Int, _ body: String = "", headers: [String: String] = [:]) {
            self.status = status
            self.body = body
            self.headers = headers
        }
    }

    /// A fault the next request gets instead of the contract's answer.
    public enum Fault: Sendable {
        /// Answer with this status and body.
        case status(Int, String)
        /// 429 with `Retry-After: seconds`.
        case rateLimited(retryAfter: Int)
        /// Wait this long, then answer normally (a client with a shorter timeout gives up).
        case slow(Duration)
        /// Close the connection without answering.
        case reset
    }

    /// The port it listens on.
    public let port: Int
    private let fd: Int32
    private let handler: @Sendable (Request) -> Reply
    private let state = Mutex<(requests: [Request], faults: [Fault], answered: [Request])>(([], [], []))
    /// Whether `fd` is still this server's listening socket. Once closed, its number may be
    /// reused by any other socket of the process: shutting it down again would stop that one.
    private let open = Mutex(true)

    /// Starts listening on a free port; `handler` plays the API.
    public init(handler: @escaping @Sendable (Request) -> Reply) throws {
        self.handler = handler
        (fd, port) = try Self.listen()
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { close() }

    /// `http://127.0.0.1:PORT` + `path`.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Queues faults for the next requests, in order.
    public func inject(_ faults: [Fault]) { state.withLock { $0.faults += faults } }

    /// Drops the faults not used yet.
    public func clearFaults() { state.withLock { $0.faults = [] } }

    /// Every request received (faulted ones too), in order.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// The requests the contract answered (not faulted), in order.
    public var answered: [Request] { state.withLock { $0.answered } }

    /// Stops listening (the accept loop then closes the socket). Idempotent.
    public func close() {
        open.withLock { isOpen in
            if isOpen { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                open.withLock { isOpen in
                    isOpen = false
                    Glibc.close(fd)
                }
                return
            }
            Thread { [self] in
                serve(client)
                Glibc.close(client)
            }.start()
        }
    }

    private func serve(_ client: Int32) {
        guard let request = Self.read(client) else { return }
        let fault = state.withLock { s -> Fault? in
            s.requests.append(request)
            return s.faults.isEmpty ? nil : s.faults.removeFirst()
        }
        let reply: Reply
        switch fault {
        case .reset?:
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            return
        case .status(let status, let body)?: reply = Reply(status, body)
        case .rateLimited(let seconds)?: reply = Reply(429, "rate limited", headers: ["Retry-After": "\(seconds)"])
        case .slow(let delay)?:
            Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
            reply = answer(request)
        case nil: reply = answer(request)
        }
        Self.write(reply, to: client)
    }

    private func answer(_ request: Request) -> Reply {
        state.withLock { $0.answered.append(request) }
        return handler(request)
    }
}
