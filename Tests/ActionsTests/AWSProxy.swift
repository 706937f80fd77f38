import FailoverTesting
import Foundation

/// A `ContractServer` handler that forwards every request to a real moto_server (so faults
/// can be injected in front of it): method, path, SigV4 headers and body as received.
enum AWSProxy {
    static func forward(to moto: MotoServer) -> @Sendable (ContractServer.Request) -> ContractServer.Reply {
        let port = moto.port
        return { request in
            var head = "\(request.method) \(request.path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n"
            for name in ["authorization", "x-amz-date", "x-amz-security-token", "content-type"] {
                if let value = request.headers[name] { head += "\(name): \(value)\r\n" }
            }
            head += "Content-Length: \(request.body.count)\r\n\r\n"
            guard
                let raw = try? LoopbackExchange.exchange(
                    Array(head.utf8) + request.body, port: port, timeout: .seconds(10)),
                let split = raw.range(of: "\r\n\r\n")
            else { return .init(502, "proxy: no answer from moto") }
            let status = raw.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 502
            return .init(status, String(raw[split.upperBound...]), headers: ["Content-Type": "text/xml"])
        }
    }

    /// An AWS XML error body with `code` and `message`.
    static func error(_ code: String, _ message: String) -> String {
        "<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error>"
            + "<RequestId>r-1</RequestId></ErrorResponse>"
    }
}
