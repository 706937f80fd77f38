import Foundation

/// A real `moto_server` (PyPI `moto[server]`) on a free loopback port, serving the Route 53,
/// ELBv2 and EC2 APIs in memory, for the AWS plugins' tests.
///
/// `init` starts it and waits until it answers HTTP; a server that cannot start throws
/// with its log (a test failure, never a skip). It is stopped by its pid only. Setup and
/// assertion calls here (`createHostedZone`, `records`, `createTargetGroup`, ...) go over
/// plain HTTP with an unsigned `Authorization` header naming the service: moto routes by
/// the credential scope and checks no signature, and these calls stay independent of the
/// signer under test.
public final class MotoServer: @unchecked Sendable {
    /// The port on 127.0.0.1.
    public let port: Int
    private let process: ServerProcess

    /// Starts moto_server and waits until it answers.
    public init(timeout: Duration = .seconds(60)) throws {
        guard let executable = Self.find("moto_server") else {
            throw HarnessError(
                .startFailed, "moto_server not found on PATH (scripts/install-deps.sh installs moto[server])")
        }
        port = try FreePort.tcp()
        process = try ServerProcess(
            name: "moto", executable: executable, arguments: ["-p", String(port), "-H", "127.0.0.1"])
        try process.waitUntilReady(timeout: timeout) { [port] in
            let raw = try? LoopbackExchange.exchange(
                Array("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8), port: port, timeout: .seconds(2))
            return raw?.hasPrefix("HTTP/1.") == true
        }
    }

    /// `init` for async tests: starts moto without blocking the cooperative pool.
    public static func start(timeout: Duration = .seconds(60)) async throws -> MotoServer {
        try await Blocking.run { try MotoServer(timeout: timeout) }
    }

    deinit { process.stop() }

    /// `http://127.0.0.1:PORT`, the plugins' `endpoint:`.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The last lines of moto's log, for failure messages.
    public func logTail(lines: Int = 60) -> String { process.logTail(lines: lines) }

    /// Stops moto (by pid). Idempotent.
    public func stop() { process.stop() }

    /// One blocking call to `service`'s API: status and body.
    public func call(
        service: String, _ method: String, _ path: String, body: String = "", contentType: String? = nil
    ) throws -> (status: Int, body: String) {
        var head = "\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n"
        head += "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/\(service)/aws4_request, "
        head += "SignedHeaders=host, Signature=0\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        head += "Content-Length: \(body.utf8.count)\r\n\r\n"
        let raw = try LoopbackExchange.exchange(Array((head + body).utf8), port: port, timeout: .seconds(10))
        let status = raw.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let text = raw.range(of: "\r\n\r\n").map { String(raw[$0.upperBound...]) } ?? ""
        guard (200..<300).contains(status) else {
            throw HarnessError(.command, "moto \(service) \(method) \(path) answered \(status): \(text.prefix(400))")
        }
        return (status, text)
    }

    /// The texts of every `<tag>` element in `xml`, in order.
    public static func elements(_ tag: String, in xml: String) -> [String] {
        var out: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(tag)>"), let close = rest[open.upperBound...].range(of: "</\(tag)>") {
            out.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return out
    }

    private static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
