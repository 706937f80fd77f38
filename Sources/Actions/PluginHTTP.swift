import CurlHTTP
import FailoverCore
import Foundation

/// The HTTP calls of an API plugin (PowerDNS, Cloudflare) through the one curl engine:
/// every call bounded by what is left of the attempt, transport failures classified, and
/// every text that reaches an error scrubbed of the plugin's secrets.
struct PluginHTTP: Sendable {
    /// The engine (the process-wide one outside tests).
    let engine: CurlEngine
    /// The service in sentences: `the PowerDNS API at http://127.0.0.1:8081`.
    let service: String
    /// The values never to show (keys, tokens).
    let secrets: [String]
    /// The end of the attempt: no call runs past it.
    let deadline: ContinuousClock.Instant
    /// The attempt's time limit, for timeout errors.
    let limit: Duration
    /// The run's fencing token, sent as `X-Failover-Token: EPOCH.TERM` by `send` (a target
    /// that checks it refuses a superseded leader's call); nil sends none.
    var fencingToken: FencingToken? = nil

    /// The header a target reads the fencing token from.
    static let tokenHeader = "X-Failover-Token"

    /// Performs one request, adding `Content-Type: application/json` when it has a body and
    /// `X-Failover-Token` when there is a fencing token.
    /// Throws `CancellationError` when cancelled, `timedOut` when the attempt's time ran out,
    /// a retryable `failed` for network trouble (refused, reset, DNS) and a permanent one for
    /// a request curl cannot make (bad URL, TLS setup).
    func send(
        _ method: HTTPRequest.Method, _ url: String, headers: [(name: String, value: String)], body: Data? = nil
    ) async throws -> HTTPResponse {
        let json = body == nil ? [] : [(name: "Content-Type", value: "application/json")]
        let token = fencingToken.map { [(name: Self.tokenHeader, value: $0.description)] } ?? []
        return try await sendExact(method, url, headers: headers + json + token, body: body)
    }

    /// Performs one request with exactly `headers` (no `Content-Type` added: a signed request
    /// such as SigV4 must send the headers it signed). Same deadline, cancellation and
    /// error classes as `send`.
    func sendExact(
        _ method: HTTPRequest.Method, _ url: String, headers: [(name: String, value: String)], body: Data? = nil
    ) async throws -> HTTPResponse {
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else {
            throw ActionError.timedOut(after: limit, detail: "\(service) was not reached in time")
        }
        let request = HTTPRequest(
            url: url, method: method, headers: headers, body: body, timeout: left, bodyLimit: 4 << 20,
            freshConnection: false, collectHeaders: true)
        let response = await engine.perform(request)
        try Task.checkCancellation()
        guard let error = response.error else { return response }
        if error.isCancelled { throw CancellationError() }
        if error.isTimeout { throw ActionError.timedOut(after: limit, detail: "\(service) did not answer in time") }
        throw ActionError.failed("cannot reach \(service): \(scrub(error.message))", retryable: error.isRetryable)
    }

    /// `text` without the secrets, cut to `limit` characters on one line.
    func scrub(_ text: String, limit: Int = 300) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return String(Redaction.scrub(line, secrets: secrets).prefix(limit))
    }

    /// The error for an unexpected status: retryable for 408, 429 (naming `Retry-After` when
    /// given) and 5xx, permanent otherwise.
    func statusError(_ response: HTTPResponse, doing what: String, detail: String) -> ActionError {
        let status = response.status
        let suffix = detail.isEmpty ? "" : ": \(scrub(detail))"
        let retryable = status == 429 || status >= 500 || status == 408
        var sentence = "\(service) answered \(status) to \(what)\(suffix)"
        if status == 429 {
            let after = response.header("Retry-After").map { "; it asks to retry after \(scrub($0, limit: 40))s" } ?? ""
            sentence = "\(service) rate-limited \(what) (429)\(after)\(suffix)"
        }
        return retryable ? .failed(sentence, retryable: true) : .permanent(sentence)
    }

    /// `text` percent-encoded as one URL path segment (a `/` in it is encoded too).
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `text` percent-encoded as a query value.
    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
