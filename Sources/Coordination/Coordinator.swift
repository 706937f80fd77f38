import FailoverCore

/// How controllers share verdicts and agree on one leader.
///
/// Every implementation must give:
/// - **Liveness-bound votes**: a controller's published votes count only while it is
///   alive (etcd: keys under its lease); `view()` returns live votes only.
/// - **Exclusive leadership**: at most one controller sees `isLeader == true` at a time,
///   and a controller that cannot reach a majority reports itself neither leader nor quorate.
/// - **Bounded calls**: every method returns or throws within the backend's timeout;
///   a retryable failure is a `CoordinationError` with `isRetryable == true`.
/// - Safe to call `publish` repeatedly with the same votes (idempotent).
public protocol Coordinator: Sendable {
    /// Joins the membership (etcd: grants and starts keeping a lease alive).
    func join() async throws
    /// Publishes this controller's current votes, replacing its previous ones per site.
    func publish(_ votes: [Vote]) async throws
    /// A snapshot of live votes, leadership and quorum health.
    func view() async throws -> CoordinationView
    /// Tries to become (or stay) leader; returns the resulting view.
    func campaign() async throws -> CoordinationView
    /// Leaves: revokes the lease and resigns leadership. Never throws.
    func leave() async
    /// One round of upkeep (join when needed, renew the lease, read the view, campaign when
    /// leaderless); never throws: a failure is a view that is not quorate and says why.
    func refresh() async -> CoordinationView
    /// The shared group state, when the backend holds it (nil: the local event log does).
    var ledger: (any GroupLedger)? { get }
}

extension Coordinator {
    /// No shared group state by default.
    public var ledger: (any GroupLedger)? { nil }
}

/// What a controller can see of the coordination state at one instant.
public struct CoordinationView: Sendable, Equatable {
    /// `local` or `etcd`.
    public var backend: String
    /// This controller's id.
    public var me: String
    /// Who votes and how many decide.
    public var policy: QuorumPolicy
    /// Live members' votes.
    public var votes: [Vote]
    /// The current leader, when known.
    public var leader: String?
    /// Whether this controller sees enough live members to decide.
    public var quorate: Bool
    /// Every voting member's liveness (nil: all alive, as with `local`).
    public var memberStates: [MemberStatus]?
    /// Why this controller is not quorate, nil when it is.
    public var problem: String?
    /// The order in which the backend issued its views (0: unordered, as with `local`); a
    /// consumer ignores a view older than one it already took.
    public var sequence: UInt64 = 0

    /// Creates a view.
    public init(
        backend: String, me: String, policy: QuorumPolicy, votes: [Vote], leader: String?, quorate: Bool,
        memberStates: [MemberStatus]? = nil, problem: String? = nil
    ) {
        self.backend = backend
        self.me = me
        self.policy = policy
        self.votes = votes
        self.leader = leader
        self.quorate = quorate
        self.memberStates = memberStates
        self.problem = problem
    }

    /// Whether this controller may act.
    public var isLeader: Bool { quorate && leader == me }

    /// The quorum verdict on `site`.
    public func verdict(for site: String) -> QuorumVerdict {
        var verdict = QuorumVerdict.tally(site: site, votes: votes, policy: policy)
        if !quorate { verdict.verdict = .unknown }
        return verdict
    }

    /// The coordination part of a status report.
    public var status: CoordinationStatus {
        CoordinationStatus(
            backend: backend, quorate: quorate, leader: leader, members: policy.members, memberStates: memberStates,
            needed: policy.quorum, problem: problem)
    }
}

/// A coordination failure.
public struct CoordinationError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable {
        case unreachable(String)
        case rejected(String)
    }

    private let code: Code

    /// The backend could not be reached; try again.
    public static func unreachable(_ detail: String) -> CoordinationError { CoordinationError(code: .unreachable(detail)) }
    /// The backend refused the request; retrying the same request will not help.
    public static func rejected(_ detail: String) -> CoordinationError { CoordinationError(code: .rejected(detail)) }

    /// Whether retrying may succeed.
    public var isRetryable: Bool {
        if case .unreachable = code { return true }
        return false
    }

    public var description: String {
        switch code {
        case .unreachable(let d): "coordination backend unreachable: \(d)"
        case .rejected(let d): "coordination backend rejected the request: \(d)"
        }
    }
}
