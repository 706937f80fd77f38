import CurlHTTP
import Foundation

/// One AWS API (Route 53, ELBv2) reached through the plugin HTTP helper: every request
/// signed with SigV4 at the moment it is sent, every error answer classified.
///
/// Guarantees: the secret key and session token travel only inside the signature and the
/// `X-Amz-Security-Token` header; AWS's error text is scrubbed of them before it reaches
/// an `ActionError`. Throttling, `PriorRequestNotComplete`, 429 and 5xx are retryable;
/// every other AWS error is permanent and names AWS's code and message.
struct AWSCall: Sendable {
    /// The HTTP helper bounded by the attempt's deadline; its secrets include the credentials'.
    let http: PluginHTTP
    /// The credentials, read at action time.
    let credentials: AWSCredentials
    /// The endpoint's base URL (`https://route53.amazonaws.com`, `http://127.0.0.1:5000`).
    let endpoint: String
    /// The SigV4 region and service.
    let region: String
    let service: String
    /// The signing time source.
    let now: @Sendable () -> Date

    /// AWS error codes a later attempt may get past.
    static let retryableCodes: Set<String> = [
        "Throttling", "ThrottlingException", "PriorRequestNotComplete", "RequestLimitExceeded", "ServiceUnavailable",
        "InternalFailure", "InternalError", "RequestTimeout", "SlowDown", "RequestThrottled",
    ]

    /// Signs and sends one request. `path` is the wire path below the endpoint; `query` is
    /// not encoded yet.
    func send(
        _ method: HTTPRequest.Method, path: String, query: [(name: String, value: String)] = [], body: Data? = nil,
        contentType: String? = nil
    ) async throws -> HTTPResponse {
        guard let parts = URLComponents(string: endpoint), let host = parts.host else {
            throw ActionError.permanent("\(http.service): the endpoint is not a URL")
        }
        let defaultPort = parts.scheme?.lowercased() == "https" ? 443 : 80
        let hostHeader = parts.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
        let fullPath = parts.path + path
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append((name: "Content-Type", value: contentType)) }
        let request = SigV4Request(
            method: method.rawValue, host: hostHeader, path: fullPath, query: query, headers: headers,
            body: body ?? Data())
        let signature = SigV4.sign(request, credentials: credentials, region: region, service: service, date: now())
        let queryText = SigV4.canonicalQuery(query)
        var base = endpoint
        if base.hasSuffix("/") { base.removeLast() }
        let url = base + path + (queryText.isEmpty ? "" : "?" + queryText)
        return try await http.sendExact(method, url, headers: headers + signature.headers, body: body)
    }

    /// The error a non-2xx answer means; `what` says what was being done (`reading the record`).
    func error(_ response: HTTPResponse, doing what: String) -> ActionError {
        let status = response.status
        let root = AWSXMLNode.parse(response.body)
        let code = root?.first("Code")?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let message = root?.first("Message")?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let detail = message.isEmpty ? "" : ": \(http.scrub(message))"
        let named = code.isEmpty ? "\(status)" : "\(http.scrub(code, limit: 80)) (\(status))"
        if Self.retryableCodes.contains(code) || status == 429 || status >= 500 || status == 408 {
            let after = response.header("Retry-After").map { "; it asks to retry after \(http.scrub($0, limit: 40))s" }
            return .failed("\(http.service) answered \(named) to \(what)\(detail)\(after ?? "")", retryable: true)
        }
        if code.isEmpty, root == nil {
            let first = String(decoding: response.body.prefix(200), as: UTF8.self)
            return .permanent("\(http.service) answered \(status) to \(what): \(http.scrub(first))")
        }
        return .permanent("\(http.service) refused \(what) with \(named)\(detail)")
    }
}
