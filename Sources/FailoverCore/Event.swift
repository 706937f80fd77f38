/// What an event records. Stable strings: they are stored and shown to users.
public enum EventKind: String, Sendable, Equatable, CaseIterable, Codable {
    case controllerStarted = "controller_started"
    case controllerStopped = "controller_stopped"
    case configLoaded = "config_loaded"
    /// A site's debounced state changed on this controller (details: the transition and
    /// the probe results of the round that caused it).
    case siteStateChanged = "site_state_changed"
    /// The quorum verdict of a site changed.
    case quorumVerdictChanged = "quorum_verdict_changed"
}

/// One row of the event log.
public struct Event: Sendable, Equatable, Codable {
    /// Row id once stored.
    public var id: Int64?
    /// When it happened (UTC milliseconds).
    public var at: Timestamp
    /// The controller that recorded it.
    public var controller: String
    /// The failover group, when it concerns one.
    public var group: String?
    /// The site, when it concerns one.
    public var site: String?
    /// The group's epoch at the time (fencing token), when it concerns a group.
    public var epoch: Int?
    /// What happened.
    public var kind: EventKind
    /// Kind-specific details; never secrets.
    public var details: JSONValue

    /// Creates an event.
    public init(
        id: Int64? = nil, at: Timestamp, controller: String, group: String? = nil, site: String? = nil,
        epoch: Int? = nil, kind: EventKind, details: JSONValue = .object([:])
    ) {
        self.id = id
        self.at = at
        self.controller = controller
        self.group = group
        self.site = site
        self.epoch = epoch
        self.kind = kind
        self.details = details
    }
}
