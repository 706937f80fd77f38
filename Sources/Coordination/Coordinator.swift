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
    /// One round of upkeep (join when needed, read the view, campaign when leaderless);
    /// never throws: a failure is a view that is not quorate and says why (or, within a
    /// live lease, the last view again: a passing failure ends no leadership).
    func refresh() async -> CoordinationView
    /// Renews the lease once (nil: this backend has no lease). Never throws; bounded by
    /// the backend's timeout. Runs on its own schedule, never behind a view read.
    func keepAlive() async -> LeaseRenewal?
    /// Watches what views read (members, votes, leader, group states, incidents) and calls
    /// `changed` when the watch starts and on every change, until the watch ends; returns why
    /// it ended, or nil at once when this backend has nothing to watch. Never throws.
    func watchChanges(_ changed: @escaping @Sendable () -> Void) async -> String?
    /// The shared group state, when the backend holds it (nil: the local event log does).
    var ledger: (any GroupLedger)? { get }
}

extension Coordinator {
    /// No shared group state by default.
    public var ledger: (any GroupLedger)? { nil }
    /// No lease by default.
    public func keepAlive() async -> LeaseRenewal? { nil }
    /// Nothing to watch by default.
    public func watchChanges(_ changed: @escaping @Sendable () -> Void) async -> String? { nil }
}

/// What one keepalive of the lease gave.
public enum LeaseRenewal: Sendable, Equatable {
    /// Acknowledged: the lease is certainly alive until then (send time + TTL).
    case renewed(validUntil: ContinuousClock.Instant)
    /// The lease is gone (expired or revoked); the next round joins again.
    case lost(String)
    /// No answer (or no lease yet): nothing is known beyond the last renewal.
    case failed(String)
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
