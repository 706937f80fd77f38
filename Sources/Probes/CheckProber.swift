import CurlHTTP
import FailoverCore

/// The production `Prober`: dispatches each check to its kind's prober. HTTP(S) and TCP
/// share one `CurlEngine` (one thread, curl multi); ping shares one ICMP socket per
/// address family. No thread is created per probe.
public final class CheckProber: Prober {
    private let http: HTTPProber
    private let tcp: TCPProber
    private let ping: PingProber
    private let postgres = PostgresProber()

    /// Creates a prober on `engine` (the process-wide engine by default).
    public init(engine: CurlEngine = .shared) {
        http = HTTPProber(engine: engine)
        tcp = TCPProber(engine: engine)
        ping = PingProber.shared
    }

    public func probe(_ check: CheckConfig, timeout: Duration, at: Timestamp) async -> ProbeResult {
        switch check.kind {
        case .http(let spec): await http.probe(check.name, spec, timeout: timeout, at: at)
        case .tcp(let address): await tcp.probe(check.name, address, timeout: timeout, at: at)
        case .ping(let host): await ping.probe(check.name, host: host, timeout: timeout, at: at)
        case .postgres(let spec): await postgres.probe(check.name, spec, timeout: timeout, at: at)
        }
    }
}
