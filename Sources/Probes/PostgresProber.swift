import FailoverCore
import PGWire

/// `postgres` checks: connect with the check's DSN (libpq, on a thread of its own per
/// probe), read the server's identity, role (primary, fenced primary, replica), WAL
/// positions and replay lag, and report them in `ProbeResult.database`, `role`, `lagBytes`
/// and `lagSeconds`. The old primary's last position seen here is what a failover's RPO
/// (data at risk) is measured against.
///
/// Guarantees: returns within `timeout` (plus scheduling slack) and never throws; passes
/// when the server answers the query, except that a replica lagging more than the check's
/// `max_lag` fails (`protocol_error`, the error saying by how much); errors never carry the
/// DSN's password.
struct PostgresProber: Sendable {
    func probe(_ name: String, _ check: PostgresCheck, timeout: Duration, at: Timestamp) async -> ProbeResult {
        let clock = ContinuousClock()
        let start = clock.now
        var result = ProbeResult(check: name, kind: "postgres", at: at, diagnosis: .ok, timings: ProbeTimings(total: 0))
        do {
            let state = try await PGClient.run(dsn: check.dsn, timeout: timeout) { try $0.serverState() }
            result.role = state.role
            result.database = state.observation
            result.lagBytes = state.lagBytes
            result.lagSeconds = state.lagSeconds
            if let maxLag = check.maxLag, state.inRecovery, state.lagBytes > maxLag {
                result.diagnosis = .protocolError
                result.error = "replica lags \(state.lagBytes) B behind what it received, above max_lag \(maxLag) B"
            }
        } catch let error as PGError {
            result.diagnosis = Self.diagnosis(error)
            result.error = error.shown(dsn: check.dsn)
        } catch {
            result.diagnosis = .probeUnavailable
            result.error = "probe cancelled"
        }
        result.timings.total = start.duration(to: clock.now).fractionalMilliseconds
        return result
    }

    /// The diagnosis of a failed connection or query.
    static func diagnosis(_ error: PGError) -> Diagnosis {
        let text = error.message.lowercased()
        switch error.kind {
        case .timedOut: return .timeout
        case .cancelled: return .probeUnavailable
        case .authentication, .rejected, .query: return .protocolError
        case .unreachable:
            if text.contains("connection refused") { return .refused }
            if text.contains("could not translate host name") { return .dnsFailure }
            if text.contains("no route") || text.contains("unreachable") { return .unreachable }
            return .protocolError
        }
    }
}
