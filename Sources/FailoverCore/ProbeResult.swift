import Foundation

/// Why a probe ended the way it did. Every probe result is classified into exactly one
/// diagnosis; `outcome` maps each to what it means for the site.
public enum Diagnosis: Sendable, Equatable, Hashable, Codable {
    /// The check passed.
    case ok
    /// No answer within the timeout.
    case timeout
    /// The peer actively refused (TCP RST, ICMP unreachable).
    case refused
    /// The host name did not resolve.
    case dnsFailure
    /// The peer could not be reached (no route, network down).
    case unreachable
    /// TLS handshake or certificate verification failed.
    case tlsFailure
    /// The certificate expires in fewer days than `min_cert_days`.
    case certificateExpiring(daysLeft: Int)
    /// The HTTP status was not an accepted one.
    case unexpectedStatus(Int)
    /// The body did not contain `expect_body`.
    case bodyMismatch
    /// The connection broke or the peer spoke garbage.
    case protocolError
    /// This controller could not run the probe (permissions, resources): says nothing
    /// about the site, so it neither passes nor fails a round.
    case probeUnavailable

    /// What a diagnosis means for the round.
    public var outcome: ProbeOutcome {
        switch self {
        case .ok: .pass
        case .timeout, .refused, .dnsFailure, .unreachable, .tlsFailure, .certificateExpiring, .unexpectedStatus,
            .bodyMismatch, .protocolError:
            .fail
        case .probeUnavailable: .inconclusive
        }
    }

    /// A short stable label for logs, JSON and metrics.
    public var label: String {
        switch self {
        case .ok: "ok"
        case .timeout: "timeout"
        case .refused: "refused"
        case .dnsFailure: "dns_failure"
        case .unreachable: "unreachable"
        case .tlsFailure: "tls_failure"
        case .certificateExpiring: "certificate_expiring"
        case .unexpectedStatus: "unexpected_status"
        case .bodyMismatch: "body_mismatch"
        case .protocolError: "protocol_error"
        case .probeUnavailable: "probe_unavailable"
        }
    }
}

/// The meaning of one probe (or one round) for the site.
public enum ProbeOutcome: String, Sendable, Equatable, Codable {
    case pass
    case fail
    /// The controller could not tell; the round does not move the site's state.
    case inconclusive
}

/// Per-phase timings of a probe, in milliseconds from its start. Phases that do not
/// apply (no DNS for an IP literal, no TLS for `http`) are nil.
public struct ProbeTimings: Sendable, Equatable, Codable {
    public var dns: Double?
    public var connect: Double?
    public var tls: Double?
    public var firstByte: Double?
    public var total: Double

    /// Creates timings.
    public init(dns: Double? = nil, connect: Double? = nil, tls: Double? = nil, firstByte: Double? = nil, total: Double) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.firstByte = firstByte
        self.total = total
    }

    enum CodingKeys: String, CodingKey {
        case dns = "dns_ms", connect = "connect_ms", tls = "tls_ms", firstByte = "first_byte_ms", total = "total_ms"
    }
}

/// The result of one probe of one check.
public struct ProbeResult: Sendable, Equatable, Codable {
    /// The check's name.
    public var check: String
    /// The check kind (`ping`, `tcp`, `http`, `https`).
    public var kind: String
    /// When the probe started.
    public var at: Timestamp
    /// What happened.
    public var diagnosis: Diagnosis
    /// How long each phase took.
    public var timings: ProbeTimings
    /// The HTTP status, when one was received.
    public var status: Int?
    /// Days until the server certificate expires (https only).
    public var certDaysLeft: Int?
    /// A readable error, already free of secrets.
    public var error: String?
    /// For `postgres` checks: `primary`, `fenced_primary` or `replica`.
    public var role: String?
    /// For `postgres` checks: the server's identity, role and WAL positions.
    public var database: DatabaseObservation?
    /// For `postgres` checks: bytes received but not yet replayed (0 on a primary).
    public var lagBytes: Int64?
    /// For `postgres` checks: seconds since the last replayed transaction while WAL waits
    /// to be replayed (0 on a primary or a caught-up replica).
    public var lagSeconds: Double?

    /// Creates a probe result.
    public init(
        check: String, kind: String, at: Timestamp, diagnosis: Diagnosis, timings: ProbeTimings, status: Int? = nil,
        certDaysLeft: Int? = nil, error: String? = nil
    ) {
        self.check = check
        self.kind = kind
        self.at = at
        self.diagnosis = diagnosis
        self.timings = timings
        self.status = status
        self.certDaysLeft = certDaysLeft
        self.error = error
    }

    /// What this probe means for the round.
    public var outcome: ProbeOutcome { diagnosis.outcome }

    enum CodingKeys: String, CodingKey {
        case check, kind, at, diagnosis, timings, status, error
        case certDaysLeft = "cert_days_left"
        case role, database, lagBytes = "lag_bytes", lagSeconds = "lag_seconds"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        check = try c.decode(String.self, forKey: .check)
        kind = try c.decode(String.self, forKey: .kind)
        at = try c.decode(Timestamp.self, forKey: .at)
        let label = try c.decode(String.self, forKey: .diagnosis)
        status = try c.decodeIfPresent(Int.self, forKey: .status)
        certDaysLeft = try c.decodeIfPresent(Int.self, forKey: .certDaysLeft)
        diagnosis = Diagnosis(label: label, status: status, certDaysLeft: certDaysLeft)
        timings = try c.decode(ProbeTimings.self, forKey: .timings)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        role = try c.decodeIfPresent(String.self, forKey: .role)
        database = try c.decodeIfPresent(DatabaseObservation.self, forKey: .database)
        lagBytes = try c.decodeIfPresent(Int64.self, forKey: .lagBytes)
        lagSeconds = try c.decodeIfPresent(Double.self, forKey: .lagSeconds)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(check, forKey: .check)
        try c.encode(kind, forKey: .kind)
        try c.encode(at, forKey: .at)
        try c.encode(diagnosis.label, forKey: .diagnosis)
        try c.encode(timings, forKey: .timings)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeIfPresent(certDaysLeft, forKey: .certDaysLeft)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(role, forKey: .role)
        try c.encodeIfPresent(database, forKey: .database)
        try c.encodeIfPresent(lagBytes, forKey: .lagBytes)
        try c.encodeIfPresent(lagSeconds, forKey: .lagSeconds)
    }
}

extension Diagnosis {
    /// Rebuilds a diagnosis from its label and the fields stored beside it.
    public init(label: String, status: Int?, certDaysLeft: Int?) {
        switch label {
        case "ok": self = .ok
        case "timeout": self = .timeout
        case "refused": self = .refused
        case "dns_failure": self = .dnsFailure
        case "unreachable": self = .unreachable
        case "tls_failure": self = .tlsFailure
        case "certificate_expiring": self = .certificateExpiring(daysLeft: certDaysLeft ?? 0)
        case "unexpected_status": self = .unexpectedStatus(status ?? 0)
        case "body_mismatch": self = .bodyMismatch
        case "protocol_error": self = .protocolError
        default: self = .probeUnavailable
        }
    }
}

/// One probe round of a site: every check probed once.
public struct ProbeRound: Sendable, Equatable, Codable {
    /// When the round started.
    public var at: Timestamp
    /// One result per check.
    public var results: [ProbeResult]

    /// Creates a round.
    public init(at: Timestamp, results: [ProbeResult]) {
        self.at = at
        self.results = results
    }

    /// The round's outcome under `require`: with `all` any failure fails the round, with
    /// `any` one pass passes it; an inconclusive probe can neither pass `all` nor fail `any`.
    public func outcome(require: Requirement) -> ProbeOutcome {
        let outcomes = results.map(\.outcome)
        guard !outcomes.isEmpty else { return .inconclusive }
        switch require {
        case .all:
            if outcomes.contains(.fail) { return .fail }
            return outcomes.allSatisfy { $0 == .pass } ? .pass : .inconclusive
        case .any:
            if outcomes.contains(.pass) { return .pass }
            return outcomes.allSatisfy { $0 == .fail } ? .fail : .inconclusive
        }
    }
}
