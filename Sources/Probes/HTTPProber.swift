import CurlHTTP
import FailoverCore
import Foundation

/// `http`/`https` checks: one fresh-connection request through the shared curl engine,
/// judged on transport, status, body and certificate lifetime, in that order.
struct HTTPProber: Sendable {
    let engine: CurlEngine

    func probe(_ name: String, _ spec: HTTPCheck, timeout: Duration, at: Timestamp) async -> ProbeResult {
        let isTLS = spec.url.lowercased().hasPrefix("https:")
        let request = HTTPRequest(
            url: spec.url, headers: spec.headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) },
            timeout: timeout, caFile: spec.caFile, followRedirects: spec.followRedirects,
            bodyLimit: spec.expectBody == nil ? 0 : 64 * 1_024, collectCertInfo: isTLS,
            receiveBufferSize: 16 * 1_024)
        let response = await engine.perform(request)
        let timings = ProbeTimings(
            dns: CurlDiagnosis.milliseconds(response.timings.nameLookup),
            connect: CurlDiagnosis.milliseconds(response.timings.connect),
            tls: isTLS ? CurlDiagnosis.milliseconds(response.timings.appConnect) : nil,
            firstByte: CurlDiagnosis.milliseconds(response.timings.startTransfer),
            total: response.timings.total.fractionalMilliseconds)
        var result = ProbeResult(
            check: name, kind: isTLS ? "https" : "http", at: at, diagnosis: .ok, timings: timings,
            status: response.status > 0 ? response.status : nil)
        if let expiry = response.certificateExpiry {
            result.certDaysLeft = Int((expiry.timeIntervalSince(at.date) / 86_400).rounded(.down))
        }
        result.diagnosis = judge(response, spec: spec, certDaysLeft: result.certDaysLeft)
        if let error = response.error {
            result.error = Self.scrub(error.description, spec: spec)
        } else if case .unexpectedStatus(let status) = result.diagnosis {
            result.error = "HTTP \(status), expected \(spec.expectStatus.map { "\($0)" } ?? "2xx")"
        } else if result.diagnosis == .bodyMismatch {
            result.error = "body does not contain the expected text"
        } else if case .certificateExpiring(let days) = result.diagnosis {
            result.error = "certificate expires in \(days) days, fewer than min_cert_days \(spec.minCertDays ?? 0)"
        }
        return result
    }

    private func judge(_ response: HTTPResponse, spec: HTTPCheck, certDaysLeft: Int?) -> Diagnosis {
        if let error = response.error { return CurlDiagnosis.diagnosis(of: error) }
        guard spec.accepts(status: response.status) else { return .unexpectedStatus(response.status) }
        if let expected = spec.expectBody, response.body.range(of: Data(expected.utf8)) == nil {
            return .bodyMismatch
        }
        if let minimum = spec.minCertDays {
            guard let days = certDaysLeft else { return .tlsFailure }
            if days < minimum { return .certificateExpiring(daysLeft: days) }
        }
        return .ok
    }

    /// curl's messages may quote the URL; credentials, secret query values and header
    /// values never leave the probe.
    static func scrub(_ text: String, spec: HTTPCheck) -> String {
        let secrets = Array(spec.headers.values) + Redaction.secrets(inURL: spec.url)
        return Redaction.scrub(text.replacingOccurrences(of: spec.url, with: Redaction.url(spec.url)), secrets: secrets)
    }
}
