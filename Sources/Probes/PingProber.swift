import FailoverCore
import Foundation

/// `ping` checks: one ICMP echo, IPv4 or IPv6, through the process's shared sockets.
final class PingProber: @unchecked Sendable {
    static let shared = PingProber()

    private let lock = NSLock()
    private var sockets: [ICMPPacket.Family: ICMPSocket] = [:]

    func probe(_ name: String, host: String, timeout: Duration, at: Timestamp) async -> ProbeResult {
        let started = ContinuousClock.now
        var result = ProbeResult(check: name, kind: "ping", at: at, diagnosis: .ok, timings: ProbeTimings(total: 0))
        let address: HostResolver.Address
        switch await HostResolver.resolve(host, timeout: timeout) {
        case .success(let found): address = found
        case .failure(let failure):
            result.diagnosis = failure == .timedOut ? .timeout : .dnsFailure
            result.error = failure == .timedOut
                ? "resolving \(host) took longer than \(timeout.text)" : "cannot resolve \(host)"
            result.timings.total = started.duration(to: .now).fractionalMilliseconds
            return result
        }
        let resolved = started.duration(to: .now)
        if resolved > .milliseconds(1) { result.timings.dns = resolved.fractionalMilliseconds }
        let socket: ICMPSocket
        switch self.socket(address.family) {
        case .success(let open): socket = open
        case .failure(let reason):
            result.diagnosis = .probeUnavailable
            result.error = reason.description
            return result
        }
        let answer = await socket.ping(address, timeout: timeout - resolved)
        result.timings.total = started.duration(to: .now).fractionalMilliseconds
        (result.diagnosis, result.error) = Self.classify(answer, host: host, timeout: timeout)
        return result
    }

    private func socket(_ family: ICMPPacket.Family) -> Result<ICMPSocket, PingUnavailable> {
        lock.withLock {
            if let open = sockets[family] { return .success(open) }
            // A failure is not cached: capabilities may be granted while we run.
            let opened = ICMPSocket.open(family)
            if case .success(let open) = opened { sockets[family] = open }
            return opened
        }
    }

    private static func classify(_ answer: ICMPSocket.Answer, host: String, timeout: Duration) -> (Diagnosis, String?) {
        switch answer {
        case .reply: (.ok, nil)
        case .timeout: (.timeout, "no echo reply from \(host) within \(timeout.text)")
        case .cancelled: (.probeUnavailable, "probe cancelled")
        case .icmpError(let type, let code): (.unreachable, "ICMP error type \(type) code \(code) for \(host)")
        case .sendFailed(let code):
            ([EPERM, EACCES, EAGAIN, EWOULDBLOCK, ENOBUFS, ENOMEM, EMFILE, ENFILE].contains(code)
                ? .probeUnavailable : .unreachable,
                "cannot send to \(host): \(String(cString: strerror(code)))")
        }
    }
}
