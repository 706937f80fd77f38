import FailoverCore

/// Group state shared by every controller (etcd), changed only by the leader.
///
/// Every change is a transaction guarded by "the leader key is still mine" and "the group
/// state is at the revision I read", so a controller that lost leadership, or acts on a
/// stale state, changes nothing.
public protocol GroupLedger: Sendable {
    /// Every stored group state with its revision.
    func loadGroups() async throws(CoordinationError) -> [String: LedgerEntry]
    /// Writes `state` (and the incidents it opened or updated) if this controller still leads
    /// and the stored state is still at `expected` (0: absent); returns the new revision.
    func commitGroup(_ name: String, state: GroupState, incidents: [Incident], expected: Int64)
        async throws(LedgerError) -> Int64
    /// Whether this controller may start an action now: its lease is certainly alive (by its
    /// own monotonic clock) and it was the leader at its last look. No network call.
    func mayAct() async -> Bool
}

/// A group state as stored, with the revision that guards the next change.
public struct LedgerEntry: Sendable, Equatable {
    /// The state.
    public var state: GroupState
    /// The store's modification revision of it.
    public var revision: Int64

    /// Creates an entry.
    public init(state: GroupState, revision: Int64) {
        self.state = state
        self.revision = revision
    }
}

/// Why a guarded group change was not written.
public enum LedgerError: Error, Sendable, CustomStringConvertible {
    /// This controller is not (or no longer) the leader.
    case notLeader(current: String?)
    /// Another change was written since this controller read the state.
    case stale(LedgerEntry?)
    /// The store could not be reached or refused the request.
    case failed(CoordinationError)

    public var description: String {
        switch self {
        case .notLeader(let current): "this controller is no longer the leader (leader now: \(current ?? "none"))"
        case .stale(let entry): "the group state changed since it was read (now at revision \(entry?.revision ?? 0))"
        case .failed(let error): error.description
        }
    }
}
