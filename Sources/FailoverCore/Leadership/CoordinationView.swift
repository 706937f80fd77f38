/// What a controller can see of the coordination state at one instant: the raw facts one
/// read of the backend returned, and what they mean (`evaluate`).
///
/// Whether this controller may act is not decided here: `LeadershipMachine` adds its own
/// lease deadline to `isLeader`.
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
    /// Whether this controller sees enough live members (itself among them) to decide.
    public var quorate: Bool
    /// Every voting member's liveness (nil: all alive, as with `local`).
    public var memberStates: [MemberStatus]?
    /// Why this controller is not quorate, nil when it is.
    public var problem: String?
    /// The order in which the backend issued its views (0: unordered, as with `local`); a
    /// consumer ignores a view older than one it already took.
    public var sequence: UInt64 = 0
    /// The leadership term when this controller leads: etcd's creation revision of the
    /// leader key held under this controller's lease (a new key, a greater term), or the
    /// `local` controller's start counter. Nil when it does not lead.
    public var term: Int64?
    /// The shared group states read in the same transaction (nil: the backend holds none).
    public var groups: [String: LedgerEntry]?
    /// Incidents written to the shared store since the previous view.
    public var incidents: [Incident] = []
    /// Until when this controller's lease is certainly alive: the send time of its last
    /// acknowledged grant or keepalive plus the TTL (nil: no lease, or none needed).
    public var leaseValidUntil: ContinuousClock.Instant?
    /// When the read's request was sent (nil: no request, as with `local`).
    public var readAt: ContinuousClock.Instant?

    /// Creates a view.
    public init(
        backend: String, me: String, policy: QuorumPolicy, votes: [Vote], leader: String?, quorate: Bool,
        memberStates: [MemberStatus]? = nil, problem: String? = nil, term: Int64? = nil
    ) {
        self.backend = backend
        self.me = me
        self.policy = policy
        self.votes = votes
        self.leader = leader
        self.quorate = quorate
        self.memberStates = memberStates
        self.problem = problem
        self.term = term
    }

    /// Whether the backend names this controller the quorate leader (the machine also
    /// requires a live lease before it acts).
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

    /// What one read of a shared backend means: who is alive, whether this controller is
    /// quorate, and whether the leader key is this controller's (under its current lease).
    ///
    /// - Parameters:
    ///   - joinedAt: every live member's id with when it joined (ms), from the member keys;
    ///   - leaderKey: the leader key's value, lease and creation revision, when present;
    ///   - lease: this controller's current lease id, when it has one;
    ///   - now: the wall time, for the members' ages.
    public static func evaluate(
        backend: String, me: String, policy: QuorumPolicy, votes: [Vote], joinedAt: [String: Int64],
        leaderKey: (value: String, lease: Int64, created: Int64)?, lease: Int64?, now: Timestamp
    ) -> CoordinationView {
        let liveMembers = policy.members.filter { joinedAt[$0] != nil }
        let registered = lease != nil && joinedAt[me] != nil
        let quorate = registered && liveMembers.count >= policy.quorum
        let problem: String? =
            if lease == nil { "this controller holds no lease" }
            else if joinedAt[me] == nil { "this controller is not registered as a live member" }
            else if !quorate { "only \(liveMembers.count) of \(policy.members.count) members are alive (\(policy.quorum) needed)" }
            else { nil }
        // Leadership counts only under this process's lease: a key left by an earlier
        // process of ours names us but is not ours.
        let leading = leaderKey.map { $0.value == me && $0.lease == lease } ?? false
        let leader = leaderKey.flatMap { $0.value == me && !leading ? nil : $0.value }
        let states = policy.members.map { id in
            MemberStatus(
                id: id, alive: joinedAt[id] != nil, leaseAgeMs: joinedAt[id].map { max(now.milliseconds - $0, 0) },
                leader: id == leader)
        }
        return CoordinationView(
            backend: backend, me: me, policy: policy, votes: votes.filter { joinedAt[$0.controller] != nil },
            leader: leader, quorate: quorate, memberStates: states, problem: problem,
            term: leading ? leaderKey?.created : nil)
    }
}

/// A group state as stored in the shared ledger, with the revision that guards the next
/// change.
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
public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This controller is not (or no longer) the leader.
    case notLeader(current: String?)
    /// Another change was written since this controller read the state.
    case stale(LedgerEntry?)
    /// The store could not be reached or refused the request.
    case failed(String)

    public var description: String {
        switch self {
        case .notLeader(let current): "this controller is no longer the leader (leader now: \(current ?? "none"))"
        case .stale(let entry): "the group state changed since it was read (now at revision \(entry?.revision ?? 0))"
        case .failed(let error): error
        }
    }
}
