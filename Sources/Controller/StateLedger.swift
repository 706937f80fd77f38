import Coordination
import EventLog
import FailoverCore
import Logging

/// Where a group change is made durable before anything acts on it.
///
/// Every implementation must give: the change (state, incidents, events) is written whole
/// or not at all; `expected` guards it where the store is shared; an error says whether
/// this controller is no longer the leader, read a stale state, or could not write.
protocol StateLedger: Sendable {
    /// Whether the states are shared by several controllers under a lease (etcd).
    var shared: Bool { get }
    /// Writes `commit` with its `events`; returns the new revision.
    func commit(_ commit: LeadershipMachine.Commit, events: [Event], at: Timestamp) async throws(LedgerError) -> Int64
}

/// `local`: the event log is the ledger, and this controller always leads.
struct LocalLedger: StateLedger {
    let store: EventStore

    var shared: Bool { false }

    func commit(_ commit: LeadershipMachine.Commit, events: [Event], at: Timestamp) throws(LedgerError) -> Int64 {
        do {
            _ = try store.recordGroupChange(
                group: commit.group, state: commit.state, events: events, incidents: commit.incidents, at: at)
        } catch {
            throw .failed("cannot record its state: \(error)")
        }
        return commit.expected + 1
    }
}

/// etcd: the guarded transaction first, then the same change mirrored into the event log
/// (a failed mirror is logged: the shared state is made, and acting on it keeps it true).
struct SharedLedger: StateLedger {
    let groups: any GroupLedger
    let store: EventStore
    let logger: Logger

    var shared: Bool { true }

    func commit(_ commit: LeadershipMachine.Commit, events: [Event], at: Timestamp) async throws(LedgerError) -> Int64 {
        let revision = try await groups.commitGroup(
            commit.group, state: commit.state, incidents: commit.incidents, expected: commit.expected)
        do {
            _ = try store.recordGroupChange(
                group: commit.group, state: commit.state, events: events, incidents: commit.incidents, at: at)
        } catch {
            logger.critical(
                "group \(commit.group): the shared state changed but the event log cannot record it: \(error)",
                metadata: ["group": "\(commit.group)"])
        }
        return revision
    }
}
