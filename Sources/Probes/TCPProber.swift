import CurlHTTP
import FailoverCore

/// `tcp` checks: a connect (nothing sent) through the shared curl engine, which gives
/// name resolution, the timeout and IPv6 for free and needs no thread of its own.
struct TCPProber: Sendable {
    let engine: CurlEngine

    func probe(_ name: String, _ address: ListenAddress, timeout: Duration, at: Timestamp) async -> ProbeResult {
        let host = address.host.contains(":") ? "[\(address.host)]" : address.host
        let request = HTTPRequest(
            url: "http://\(host):\(address.port)/", timeout: timeout, bodyLimit: 0, connectOnly: true,
            receiveBufferSize: 1_024)
        let response = await engine.perform(request)
        let timings = ProbeTimings(
            dns: CurlDiagnosis.milliseconds(response.timings.nameLookup),
            connect: CurlDiagnosis.milliseconds(response.timings.connect),
            total: response.timings.total.fractionalMilliseconds)
        var result = ProbeResult(check: name, kind: "tcp", at: at, diagnosis: .ok, timings: timings)
        if let error = response.error {
            result.diagnosis = CurlDiagnosis.diagnosis(of: error)
            result.error = error.description
        }
        return result
    }
}
