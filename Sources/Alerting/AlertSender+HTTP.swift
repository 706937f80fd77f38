import CurlHTTP
import FailoverCore
import Foundation

/// What became of one delivery attempt.
enum DeliveryResult: Equatable {
    case delivered
    /// Try again, not before `after` when the receiver said so (`Retry-After`).
    case retry(String, after: Duration?)
    case permanent(String)
}

extension AlertSender {
    /// Sends `alert` to `sink` once and classifies the answer.
    func send(_ alert: Alert, to sink: AlertSink?) async -> DeliveryResult {
        guard let sink else { return .permanent("no such sink in the configuration any more") }
        let (url, headers) = destination(sink.target)
        let body = AlertRendering.body(alert, for: sink.target, runbookBaseURL: runbookBaseURL)
        let request = HTTPRequest(
            url: url, method: .post, headers: [("Content-Type", "application/json")] + headers, body: body,
            timeout: timeout, collectHeaders: true)
        return classify(await engine.perform(request), target: sink.target)
    }

    private func destination(_ target: AlertSink.Target) -> (String, [(name: String, value: String)]) {
        switch target {
        case .pagerDuty(_, let url): (url, [])
        case .slack(let url): (url, [])
        case .webhook(let url, let headers): (url, headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
    }

    /// 2xx delivered (Slack: `ok`); 408, 429 and 5xx and transport errors retried; any
    /// other 4xx permanent.
    func classify(_ response: HTTPResponse, target: AlertSink.Target) -> DeliveryResult {
        if let error = response.error { return .retry(scrub("no answer: \(error.message)"), after: nil) }
        let status = response.status
        let text = scrub(String(response.text.prefix(200)).trimmingCharacters(in: .whitespacesAndNewlines))
        switch status {
        case 200..<300: return .delivered
        case 429: return .retry("HTTP 429 (rate limited)\(text.isEmpty ? "" : ": \(text)")", after: retryAfter(response))
        case 408, 500..<600: return .retry("HTTP \(status)\(text.isEmpty ? "" : ": \(text)")", after: retryAfter(response))
        default: return .permanent("HTTP \(status) (\(target.label) refused it; not retried)\(text.isEmpty ? "" : ": \(text)")")
        }
    }

    /// `Retry-After` in seconds (the HTTP-date form is read as no hint).
    func retryAfter(_ response: HTTPResponse) -> Duration? {
        guard let value = response.header("Retry-After"), let seconds = Int(value.trimmingCharacters(in: .whitespaces)),
            seconds >= 0
        else { return nil }
        return .seconds(min(seconds, 3_600))
    }

    func scrub(_ text: String) -> String { Redaction.scrub(text, secrets: secrets) }
}
