import CurlHTTP
import FailoverCore
import Foundation

/// The Cloudflare v4 calls of the cloudflare plugin: bearer authentication, the envelope
/// read and checked, every failure turned into an `ActionError` free of the token.
struct CloudflareAPI: Sendable {
    /// The plugin's options (base URL and token).
    let options: CloudflareOptions
    /// The HTTP calls, bounded by the attempt.
    let http: PluginHTTP

    /// Error codes Cloudflare uses for a missing, malformed or unauthorised credential.
    static let authenticationCodes: Set<Int> = [9103, 9106, 9109, 10000, 10001]

    /// Calls `path` (below the API base) and decodes the envelope's `result` as `T`.
    func call<T: Decodable>(
        _ method: HTTPRequest.Method, _ path: String, body: Data? = nil, doing what: String
    ) async throws -> T {
        let response = try await send(method, path, body: body, doing: what)
        guard let result = try? JSONDecoder().decode(CloudflareEnvelope<T>.self, from: response.body).result else {
            throw notEnvelope(what)
        }
        return result
    }

    /// Calls `path` and returns the envelope's `result` object as JSON (fields kept as read).
    func callObject(
        _ method: HTTPRequest.Method, _ path: String, body: Data? = nil, doing what: String
    ) async throws -> [String: Any] {
        let response = try await send(method, path, body: body, doing: what)
        guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let result = object["result"] as? [String: Any]
        else { throw notEnvelope(what) }
        return result
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: Data?, doing what: String) async throws
        -> HTTPResponse
    {
        let headers = [
            (name: "Authorization", value: "Bearer \(options.token)"), (name: "Accept", value: "application/json"),
        ]
        let response = try await http.send(method, options.api + path, headers: headers, body: body)
        try check(response, doing: what)
        return response
    }

    /// Throws unless the answer is 2xx with `success: true`.
    func check(_ response: HTTPResponse, doing what: String) throws {
        let status = response.status
        let envelope = try? JSONDecoder().decode(CloudflareEnvelope<Ignored>.self, from: response.body)
        let ok = (200..<300).contains(status)
        if ok, envelope?.success == true { return }
        let codes = Set(envelope?.errors?.compactMap(\.code) ?? [])
        let errors = envelope.map { Self.errorText($0.errors ?? []) } ?? ""
        if status == 401 || status == 403 || !codes.isDisjoint(with: Self.authenticationCodes) {
            let detail = errors.isEmpty ? "" : "; \(http.scrub(errors))"
            let advice = "check `token` and its permissions"
            throw ActionError.permanent("\(http.service) refused the API token (\(status)\(detail)) while \(what): \(advice)")
        }
        if ok {
            guard envelope != nil else { throw notEnvelope(what) }
            throw ActionError.permanent("\(http.service) said success: false while \(what): \(http.scrub(errors))")
        }
        throw http.statusError(response, doing: what, detail: errors)
    }

    private func notEnvelope(_ what: String) -> ActionError {
        .failed("\(http.service) answered \(what) with something that is not a v4 envelope", retryable: true)
    }

    /// `code 1004: DNS Validation Error; code ...`.
    static func errorText(_ errors: [CloudflareEnvelope<Ignored>.Message]) -> String {
        errors.map { error in
            [error.code.map { "code \($0)" }, error.message].compactMap { $0 }.joined(separator: ": ")
        }.joined(separator: "; ")
    }

    /// A result the check does not read.
    struct Ignored: Decodable {}
}

/// Cloudflare's v4 envelope: `{"success","errors":[{"code","message"}],"messages","result"}`.
struct CloudflareEnvelope<Result: Decodable>: Decodable {
    /// One entry of `errors`.
    struct Message: Decodable {
        let code: Int?
        let message: String?
    }

    let success: Bool
    let errors: [Message]?
    let result: Result?
}
