import FailoverCore

/// Something that performs one step of a failover plan on the world: drains a load
/// balancer, fences or promotes a database, moves a DNS record, runs a command.
///
/// Every implementation guarantees:
/// - **Idempotent.** Performing the same request twice is harmless and ends in the same
///   state: a retry, or a new leader resuming the plan after a crash, re-runs a step that
///   may already have taken effect. "Already done" is success, not an error.
/// - **Bounded by `request.timeout`, and cancellable.** It returns or throws within the
///   timeout, and when its task is cancelled it stops what it started and returns or
///   throws promptly (the step runner cancels it at the deadline and on shutdown).
/// - **Reports what it changed** as short sentences in `ActionReport.changed`, and for a
///   promotion the promoted replica's lag at that moment (the RPO), for a DNS change the
///   record's TTL.
/// - **Never leaks secrets.** Errors and reports contain no passwords, tokens or keys;
///   text quoted from a target (stderr, an API body) is scrubbed first.
/// - **Classifies its failures** as `ActionError`s: retryable when a new attempt may
///   succeed, permanent otherwise. Any other error is taken as a retryable failure.
public protocol ActionPlugin: Sendable {
    /// Performs `request` once (one attempt); see the protocol's guarantees.
    func perform(_ request: ActionRequest) async throws -> ActionReport
}

/// One attempt of one step, as handed to a plugin.
public struct ActionRequest: Sendable, Equatable {
    /// The failover the step belongs to (group, incident, from, to, epoch, drill...).
    public var context: RunContext
    /// The step: index, kind, site, action and limits.
    public var step: ResolvedStep
    /// The attempt number, from 1.
    public var attempt: Int
    /// How long this attempt may take.
    public var timeout: Duration

    /// Creates a request; `timeout` defaults to the step's.
    public init(context: RunContext, step: ResolvedStep, attempt: Int = 1, timeout: Duration? = nil) {
        self.context = context
        self.step = step
        self.attempt = attempt
        self.timeout = timeout ?? step.timeout
    }

    /// The site the step acts on, when it has one.
    public var site: String? { step.site }
}

/// What a successful attempt did.
public struct ActionReport: Sendable, Equatable {
    /// What changed, one human sentence each (`removed east from backend web`).
    public var changed: [String]
    /// For a promotion: the promoted replica's lag at promotion (the RPO).
    public var lag: ReplicationLag?
    /// For a DNS change: the TTL of the record changed (worst-case client delay).
    public var dnsTTL: Duration?
    /// For verification: the first passing probe of the service through its new target.
    public var restoredAt: Timestamp?

    /// Creates a report.
    public init(
        changed: [String] = [], lag: ReplicationLag? = nil, dnsTTL: Duration? = nil, restoredAt: Timestamp? = nil
    ) {
        self.changed = changed
        self.lag = lag
        self.dnsTTL = dnsTTL
        self.restoredAt = restoredAt
    }
}
