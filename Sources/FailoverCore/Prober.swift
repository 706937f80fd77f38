/// Runs one check once.
///
/// Every implementation must: return within `timeout` (plus scheduling slack), never
/// throw (failures are diagnoses), classify the result into exactly one `Diagnosis`,
/// and keep secrets (URL credentials, header values) out of `error`.
public protocol Prober: Sendable {
    /// Probes `check`, started at `at`, bounded by `timeout`.
    func probe(_ check: CheckConfig, timeout: Duration, at: Timestamp) async -> ProbeResult
}
