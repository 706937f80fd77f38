/// How urgent an alert is (PagerDuty's severities).
public enum AlertSeverity: String, Sendable, Equatable, Comparable, CaseIterable, Codable {
    case info
    case warning
    case error
    case critical

    private var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (a: AlertSeverity, b: AlertSeverity) -> Bool { a.rank < b.rank }
}

/// What an alert is about. Stable names: a sink's `events:` filter lists them.
public enum AlertKind: String, Sendable, Equatable, CaseIterable, Codable {
    case siteDown = "site_down"
    case siteUp = "site_up"
    case failoverNeeded = "failover_needed"
    case failoverHeld = "failover_held"
    case failoverVetoed = "failover_vetoed"
    case noEligibleTarget = "no_eligible_target"
    case failoverStarted = "failover_started"
    case stepFailed = "step_failed"
    case failoverSucceeded = "failover_succeeded"
    case failoverFailed = "failover_failed"
    case drillFinished = "drill_finished"
    case certificateExpiring = "certificate_expiring"
    case splitBrain = "split_brain"
    case splitBrainEnded = "split_brain_ended"
    case quorumLost = "quorum_lost"
    case quorumRegained = "quorum_regained"
    case controllerLost = "controller_lost"
}

/// Whether an alert opens (or updates) a problem or closes it.
public enum AlertAction: String, Sendable, Equatable, Codable {
    case trigger
    case resolve
}

/// One alert derived from an event: what every sink renders in its own format.
public struct Alert: Sendable, Equatable, Codable {
    /// What it is about.
    public var kind: AlertKind
    /// Open or close the problem identified by `key`.
    public var action: AlertAction
    /// How urgent.
    public var severity: AlertSeverity
    /// Identifies the problem across alerts: the incident id, or `site:east`, `group:web`.
    /// A resolve carries the key of what it resolves (PagerDuty's `dedup_key`).
    public var key: String
    /// One line, at most 1024 characters.
    public var summary: String
    /// The event the alert comes from.
    public var eventID: Int64
    /// When it happened.
    public var at: Timestamp
    /// The controller that saw it.
    public var controller: String
    /// The group, site and epoch concerned.
    public var group: String?
    public var site: String?
    public var epoch: Int?
    /// The runbook for the situation (a file name in `runbooks/`).
    public var runbook: String?
    /// Facts for the reader (RTO phases, step, error...), never secrets.
    public var details: [String: JSONValue]

    /// Creates an alert.
    public init(
        kind: AlertKind, action: AlertAction, severity: AlertSeverity, key: String, summary: String, eventID: Int64,
        at: Timestamp, controller: String, group: String?, site: String?, epoch: Int?, runbook: String?,
        details: [String: JSONValue]
    ) {
        self.kind = kind
        self.action = action
        self.severity = severity
        self.key = key
        self.summary = summary
        self.eventID = eventID
        self.at = at
        self.controller = controller
        self.group = group
        self.site = site
        self.epoch = epoch
        self.runbook = runbook
        self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case kind, action, severity, key, summary, at, controller, group, site, epoch, runbook, details
        case eventID = "event_id"
    }
}

/// A destination of alerts and what it receives.
public struct AlertSink: Sendable, Equatable {
    /// Where alerts go.
    public enum Target: Sendable, Equatable {
        /// PagerDuty Events API v2.
        case pagerDuty(routingKey: String, url: String)
        /// A Slack incoming webhook.
        case slack(webhookURL: String)
        /// Any URL that takes the alert as JSON, with extra headers.
        case webhook(url: String, headers: [String: String])

        /// `pagerduty`, `slack` or `webhook`.
        public var label: String {
            switch self {
            case .pagerDuty: "pagerduty"
            case .slack: "slack"
            case .webhook: "webhook"
            }
        }

        /// The values that must never be shown: routing key, webhook URL, header values.
        public var secrets: [String] {
            switch self {
            case .pagerDuty(let key, _): [key]
            case .slack(let url): [url] + Redaction.secrets(inURL: url)
            case .webhook(let url, let headers): Array(headers.values) + Redaction.secrets(inURL: url)
            }
        }
    }

    /// A stable name: queued alerts are addressed to it, so it survives restarts.
    public var name: String
    /// Where alerts go.
    public var target: Target
    /// Only alerts at least this severe (all when nil).
    public var minSeverity: AlertSeverity?
    /// Only these kinds (all when nil).
    public var kinds: Set<AlertKind>?

    /// Creates a sink.
    public init(name: String, target: Target, minSeverity: AlertSeverity? = nil, kinds: Set<AlertKind>? = nil) {
        self.name = name
        self.target = target
        self.minSeverity = minSeverity
        self.kinds = kinds
    }

    /// Whether this sink receives `alert`. A resolve goes wherever its trigger would have
    /// gone, so a sink filtered by severity still sees its problems closed.
    public func accepts(_ alert: Alert) -> Bool {
        if let kinds, !kinds.contains(alert.kind) { return false }
        if alert.action == .resolve { return true }
        if let minSeverity, alert.severity < minSeverity { return false }
        return true
    }
}

/// The `alerts:` configuration.
public struct AlertConfig: Sendable, Equatable {
    /// The sinks.
    public var sinks: [AlertSink]
    /// Where runbook links point: a base URL to which `primary-down.md` etc. is appended.
    public var runbookBaseURL: String?

    /// Creates a configuration.
    public init(sinks: [AlertSink] = [], runbookBaseURL: String? = nil) {
        self.sinks = sinks
        self.runbookBaseURL = runbookBaseURL
    }

    /// The secrets of every sink.
    public var secrets: [String] { sinks.flatMap(\.target.secrets) }
}

/// The alert outbox as `status` shows it.
public struct AlertQueueStatus: Sendable, Equatable, Codable {
    /// Alerts not delivered yet.
    public var pending: Int
    /// Alerts given up on (a permanent error).
    public var failed: Int
    /// When the oldest pending alert was queued.
    public var oldestPendingAt: Timestamp?
    /// The most recent failures and retries, secrets removed.
    public var problems: [String]

    /// Creates a status.
    public init(pending: Int, failed: Int, oldestPendingAt: Timestamp?, problems: [String]) {
        self.pending = pending
        self.failed = failed
        self.oldestPendingAt = oldestPendingAt
        self.problems = problems
    }

    enum CodingKeys: String, CodingKey {
        case pending, failed, problems
        case oldestPendingAt = "oldest_pending_at"
    }
}
