/// The figures derived from an incident's timeline, all in milliseconds.
///
/// RTO = `restored − start`, where start is the first failed probe (unplanned) or the
/// decision (planned). Its phases add up to it exactly: detection (`detected − start`),
/// decision (`decided − detected`), actuation (`actuated − decided`) and verification
/// (`restored − actuated`); a planned incident has no detection or decision phase.
public struct IncidentMeasures: Sendable, Equatable, Codable {
    /// Recovery time, when the service was verified restored.
    public var rtoMs: Int64?
    /// How uncertain the start is: `first_fail − last_ok` (unplanned only).
    public var uncertaintyMs: Int64?
    /// `detected − first_fail`.
    public var detectionMs: Int64?
    /// `decided − detected`.
    public var decisionMs: Int64?
    /// `actuated − decided`.
    public var actuationMs: Int64?
    /// `restored − actuated`.
    public var verificationMs: Int64?
    /// RTO plus the DNS TTL: the worst a client caching the old answer waits.
    public var worstCaseClientMs: Int64?
    /// Whether RTO met the group's target (nil without a target or an RTO).
    public var rtoMet: Bool?
    /// Whether the lag at promotion met the RPO target (nil when not measured).
    public var rpoMet: Bool?
    /// Succeeded and no target missed.
    public var passed: Bool

    enum CodingKeys: String, CodingKey {
        case passed
        case rtoMs = "rto_ms", uncertaintyMs = "uncertainty_ms", detectionMs = "detection_ms", decisionMs = "decision_ms"
        case actuationMs = "actuation_ms", verificationMs = "verification_ms", worstCaseClientMs = "worst_case_client_ms"
        case rtoMet = "rto_met", rpoMet = "rpo_met"
    }
}

extension Incident {
    /// The derived figures of this incident.
    public var measures: IncidentMeasures {
        func span(_ a: Timestamp?, _ b: Timestamp?) -> Int64? {
            guard let a, let b else { return nil }
            return b.milliseconds - a.milliseconds
        }
        let actuatedAt = actuated ?? decided
        let rto = span(start, restored)
        let uncertainty = planned ? nil : span(lastOK, firstFail)
        let rtoMet = zip(rto, rtoTargetMs).map { $0.0 <= $0.1 }
        let passed = result == .succeeded && rtoMet != false && rpoMet != false
        return IncidentMeasures(
            rtoMs: rto, uncertaintyMs: uncertainty,
            detectionMs: planned ? nil : span(start, detected ?? decided),
            decisionMs: planned ? nil : span(detected ?? decided, decided),
            actuationMs: span(decided, actuatedAt), verificationMs: span(actuatedAt, restored),
            worstCaseClientMs: zip(rto, dnsTTLMs).map { $0.0 + $0.1 }, rtoMet: rtoMet, rpoMet: rpoMet, passed: passed)
    }

    /// Whether the RPO (data at risk at promotion) met the RPO target: its seconds (0 when
    /// the old primary's final position was read live, else the age of its last reading:
    /// the window of writes nobody saw) when known, else zero bytes counts as met; nil
    /// without a target or a measurement.
    public var rpoMet: Bool? {
        guard let target = rpoTargetMs, let lag else { return nil }
        if let seconds = lag.seconds { return seconds * 1_000 <= Double(target) }
        if let bytes = lag.bytes { return bytes == 0 ? true : nil }
        return nil
    }
}

/// Both values, or nil.
func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

/// An incident with its derived figures, as `report --json` and `GET /incidents` show it.
public struct IncidentView: Sendable, Equatable, Codable {
    /// The stored timeline.
    public var incident: Incident
    /// What it measured.
    public var measures: IncidentMeasures

    /// The view of `incident`.
    public init(_ incident: Incident) {
        self.incident = incident
        measures = incident.measures
    }
}
