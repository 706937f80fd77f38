import FailoverCore

/// Group state shared by every controller (etcd), changed only by the leader. Whether to
/// change it is `LeadershipMachine`'s decision; the store only guards the write.
///
/// Every change is a transaction guarded by "the leader key is still mine" and "the group
/// state is at the revision I read", so a controller that lost leadership, or acts on a
/// stale state, changes nothing.
public protocol GroupLedger: Sendable {
    /// Writes `state` (and the incidents it opened or updated) if this controller still leads
    /// and the stored state is still at `expected` (0: absent); returns the new revision.
    func commitGroup(_ name: String, state: GroupState, incidents: [Incident], expected: Int64)
        async throws(LedgerError) -> Int64
}

