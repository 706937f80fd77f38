import FailoverCore
import Foundation

/// Coordination through etcd (DESIGN.md, "Coordination").
///
/// Keys under the configured prefix `P`:
/// - `P/members/ID`: JSON `{id, joined_at}` under ID's lease: who is alive, and since when;
/// - `P/votes/SITE/ID`: ID's vote on SITE under ID's lease, so a dead controller's votes expire;
/// - `P/leader`: the leader's id under the leader's lease, created only if absent;
/// - `P/groups/NAME`: the group's `GroupState` (JSON), changed only by guarded transactions;
/// - `P/incidents/ID` and `P/events/CONTROLLER/SEQ`: incidents and every controller's events,
///   mirrored into each controller's event log.
///
/// What a read means (quorate, leading, the term) is `CoordinationView.evaluate`'s; whether
/// this controller may act is `LeadershipMachine`'s, which adds the lease's deadline. The
/// lease is renewed by `keepAlive`, on its own schedule, never behind a view read.
public actor EtcdCoordinator: Coordinator, GroupLedger {
    let me: String
    let config: EtcdConfig
    let policy: QuorumPolicy
    let client: EtcdClient
    let wallClock: any WallClock
    private let clock = ContinuousClock()

    private var lease: Int64?
    /// Until when the lease is certainly alive: the send time of the last successful
    /// keepalive (or grant) plus the TTL etcd granted.
    private var leaseValidUntil: ContinuousClock.Instant?
    private var myVotes: [String: Vote] = [:]
    /// The last view.
    private var last: CoordinationView?
    /// The group states last decoded, by name.
    private var decoded: [String: LedgerEntry] = [:]
    /// The highest modification revision of the incidents read so far.
    private var incidentCursor: Int64 = 0
    /// Numbers views in the order their requests were sent.
    private var sequence: UInt64 = 0
    /// Whether the last view showed this controller's membership key.
    private var registered = true

    /// Creates a coordinator for controller `id`.
    public init(id: String, config: EtcdConfig, client: EtcdClient? = nil, wallClock: any WallClock = SystemWallClock()) {
        me = id
        self.config = config
        policy = QuorumPolicy(members: config.members, quorum: config.quorum)
        self.client = client ?? EtcdClient(config: config)
        self.wallClock = wallClock
    }

    // MARK: Keys

    nonisolated var prefix: String { config.prefix }
    var leaderKey: String { "\(prefix)/leader" }
    var membersPrefix: String { "\(prefix)/members/" }
    nonisolated var votesPrefix: String { "\(prefix)/votes/" }
    nonisolated var groupsPrefix: String { "\(prefix)/groups/" }
    var incidentsPrefix: String { "\(prefix)/incidents/" }
    var eventsPrefix: String { "\(prefix)/events/" }
    func voteKey(_ site: String) -> String { "\(votesPrefix)\(site)/\(me)" }
    func groupKey(_ name: String) -> String { "\(groupsPrefix)\(name)" }

    var ttlSeconds: Int { Int(config.leaseTTL.milliseconds / 1_000) }

    // MARK: Coordinator

    /// Grants a lease and announces this controller (and its current votes) under it. When
    /// the announcement fails the lease is revoked, so the next round joins again.
    ///
    /// A leader key left by this controller's previous process is not removed: that process
    /// may still run (stopped, hung), and its lease is what keeps a second leader out; the
    /// key goes when that lease expires.
    public func join() async throws {
        let sent = clock.now
        let id = try await client.grant(ttl: ttlSeconds)
        do {
            try await register(lease: id)
        } catch {
            try? await client.revoke(id)
            throw error
        }
        lease = id
        leaseValidUntil = sent + config.leaseTTL
    }

    /// Puts the membership key and every remembered vote under `lease` (at most 100 per
    /// transaction, below etcd's limit of operations per transaction).
    private func register(lease id: Int64) async throws {
        let member = JSONValue.object(["id": .string(me), "joined_at": .number(Double(wallClock.now().milliseconds))])
        var puts = [EtcdClient.requestPut("\(membersPrefix)\(me)", member.jsonText, lease: id)]
        puts += myVotes.values.map { EtcdClient.requestPut(voteKey($0.site), Self.voteText($0), lease: id) }
        for start in stride(from: 0, to: puts.count, by: 100) {
            _ = try await client.txn(compare: [], success: Array(puts[start..<min(start + 100, puts.count)]))
        }
    }

    /// Puts this controller's votes under its lease (remembered for re-joining).
    public func publish(_ votes: [Vote]) async throws {
        for vote in votes where vote.controller == me { myVotes[vote.site] = vote }
        guard let lease else { throw CoordinationError.unreachable("no lease yet: this controller has not joined") }
        let puts = votes.filter { $0.controller == me }.map { EtcdClient.requestPut(voteKey($0.site), Self.voteText($0), lease: lease) }
        guard !puts.isEmpty else { return }
        _ = try await client.txn(compare: [], success: puts)
    }

    /// Live members, their votes and the leader key, read in one transaction; what they
    /// mean is `CoordinationView.evaluate`'s.
    public func view() async throws -> CoordinationView { try await read(ledger: false) }

    /// A view; with `ledger`, the same transaction also reads the group states and the
    /// incidents changed since the last such read (only the coordination round's views
    /// carry them, so none is consumed by a vote's re-read).
    private func read(ledger: Bool) async throws -> CoordinationView {
        sequence += 1
        let issued = sequence
        let sentAt = clock.now
        var requests = [
            EtcdClient.requestRange(prefix: membersPrefix), EtcdClient.requestRange(prefix: votesPrefix),
            EtcdClient.requestRange(key: leaderKey),
        ]
        if ledger { requests += [EtcdClient.requestRange(prefix: groupsPrefix), .object(["request_range": incidentRange])] }
        let reply = try await client.txn(compare: [], success: requests)
        var joined: [String: Int64] = [:]
        for kv in reply.range(0) {
            guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(kv.value.utf8)),
                let id = json["id"]?.stringValue
            else { continue }
            joined[id] = Int64(json["joined_at"]?.numberValue ?? 0)
        }
        let votes = reply.range(1).compactMap { Self.vote($0, votesPrefix: votesPrefix) }
        let leaderKV = reply.range(2).first
        var view = CoordinationView.evaluate(
            backend: "etcd", me: me, policy: policy, votes: votes, joinedAt: joined,
            leaderKey: leaderKV.map { ($0.value, $0.lease, $0.createRevision) }, lease: lease, now: wallClock.now())
        view.sequence = issued
        view.readAt = sentAt
        view.leaseValidUntil = leaseValidUntil
        if ledger {
            view.groups = try groups(reply.range(3))
            let changed = reply.range(4)
            view.incidents = changed.compactMap { try? JSONDecoder().decode(Incident.self, from: Data($0.value.utf8)) }
            incidentCursor = max(incidentCursor, changed.map(\.modRevision).max() ?? 0)
        }
        // A slower, older read never replaces a newer one.
        if last.map({ $0.sequence < issued }) ?? true { last = view }
        registered = joined[me] != nil
        return view
    }

    /// The incidents changed since the last view; the first view reads the newest 100.
    private var incidentRange: JSONValue {
        incidentCursor == 0
            ? EtcdClient.range(prefix: incidentsPrefix, limit: 100, sortByModification: true, newestFirst: true)
            : EtcdClient.range(prefix: incidentsPrefix, minModRevision: incidentCursor + 1, sortByModification: true)
    }

    /// The stored group states; a state is decoded again only when its revision changed.
    private func groups(_ kvs: [KeyValue]) throws -> [String: LedgerEntry] {
        var out: [String: LedgerEntry] = [:]
        for kv in kvs {
            let name = String(kv.key.dropFirst(groupsPrefix.count))
            if let known = decoded[name], known.revision == kv.modRevision {
                out[name] = known
                continue
            }
            guard let state = try? JSONDecoder().decode(GroupState.self, from: Data(kv.value.utf8)) else {
                throw CoordinationError.rejected("the stored state of group \(name) is unreadable")
            }
            out[name] = LedgerEntry(state: state, revision: kv.modRevision)
        }
        decoded = out
        return out
    }

    /// Creates the leader key under this controller's lease if it is absent; returns the view after.
    public func campaign() async throws -> CoordinationView {
        try await campaign(ledger: false)
    }

    private func campaign(ledger: Bool) async throws -> CoordinationView {
        guard let lease else { return try await read(ledger: ledger) }
        _ = try await client.txn(
            compare: [EtcdClient.compare(leaderKey, "CREATE", "0")],
            success: [EtcdClient.requestPut(leaderKey, me, lease: lease)])
        return try await read(ledger: ledger)
    }

    /// Revokes the lease: this controller's votes, membership and leadership go at once.
    public func leave() async {
        guard let lease else { return }
        self.lease = nil
        leaseValidUntil = nil
        try? await client.revoke(lease)
    }

    /// One keepalive of the lease, timed from its send: `renewed` moves the lease's end to
    /// send time + the TTL etcd granted; a TTL of 0 means the lease is gone (the next round
    /// joins again).
    public func keepAlive() async -> LeaseRenewal? {
        guard let lease else { return .failed("no lease yet: this controller has not joined") }
        let sent = clock.now
        do {
            let ttl = try await client.keepAlive(lease)
            guard self.lease == lease else { return .failed("the lease was replaced while its keepalive was sent") }
            guard ttl > 0 else {
                self.lease = nil
                leaseValidUntil = nil
                return .lost("this controller's lease expired (silent for longer than lease_ttl \(config.leaseTTL.text)); joining again")
            }
            let until = sent + .seconds(ttl)
            if leaseValidUntil.map({ until > $0 }) ?? true { leaseValidUntil = until }
            return .renewed(validUntil: leaseValidUntil!)
        } catch {
            return .failed("etcd: \(error)")
        }
    }

    /// Watches the keys a view reads: from `P/groups/` to the end of `P/votes/` (groups,
    /// incidents, the leader key, members and votes; not the event exchange), for at most
    /// ten minutes at a time. `nonisolated`: a watch runs beside every other call.
    public nonisolated func watchChanges(_ changed: @escaping @Sendable () -> Void) async -> String? {
        do {
            return try await client.watch(
                from: groupsPrefix, to: EtcdClient.rangeEnd(votesPrefix), for: .seconds(600), changed: changed)
        } catch {
            return "\(error)"
        }
    }

    /// One coordination round, which never throws: (re-)joins when there is no lease, reads
    /// the view and campaigns when there is no leader. Any failure gives a view that is not
    /// quorate, saying why; while the lease is certainly alive, the last view instead (the
    /// machine ignores a view it already took, and its own lease deadline still bounds it).
    public func refresh() async -> CoordinationView {
        do {
            if lease == nil { try await join() }
            // The membership key is gone while the lease lives (deleted by hand, a restore):
            // announce it again.
            if let lease, !registered { try await register(lease: lease) }
            var view = try await read(ledger: true)
            if view.quorate && view.leader == nil { view = try await campaign(ledger: true) }
            return view
        } catch {
            if let last, let leaseValidUntil, clock.now < leaseValidUntil, last.quorate { return last }
            return notQuorate("etcd: \(error)")
        }
    }

    private func notQuorate(_ problem: String) -> CoordinationView {
        let members = policy.members.map { id in
            MemberStatus(id: id, alive: id == me ? false : (last?.memberStates?.first { $0.id == id }?.alive ?? false))
        }
        sequence += 1
        var view = CoordinationView(
            backend: "etcd", me: me, policy: policy, votes: [], leader: nil, quorate: false, memberStates: members,
            problem: problem)
        view.sequence = sequence
        view.readAt = clock.now
        view.leaseValidUntil = leaseValidUntil
        last = view
        return view
    }

    // MARK: GroupLedger

    /// This coordinator holds the group state.
    public nonisolated var ledger: (any GroupLedger)? { self }

    public func commitGroup(_ name: String, state: GroupState, incidents: [Incident], expected: Int64)
        async throws(LedgerError) -> Int64
    {
        guard let lease else { throw .notLeader(current: last?.leader) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let stateText: String
        let incidentPuts: [JSONValue]
        do {
            stateText = String(decoding: try encoder.encode(state), as: UTF8.self)
            incidentPuts = try incidents.map { incident in
                EtcdClient.requestPut("\(incidentsPrefix)\(incident.id)", String(decoding: try encoder.encode(incident), as: UTF8.self))
            }
        } catch {
            throw .failed("cannot encode the state of group \(name): \(error)")
        }
        let reply: TxnReply
        do {
            reply = try await client.txn(
                compare: [
                    EtcdClient.compare(leaderKey, "VALUE", me), EtcdClient.compare(leaderKey, "LEASE", String(lease)),
                    EtcdClient.compare(groupKey(name), "MOD", String(expected)),
                ],
                success: [EtcdClient.requestPut(groupKey(name), stateText)] + incidentPuts,
                failure: [EtcdClient.requestRange(key: leaderKey), EtcdClient.requestRange(key: groupKey(name))])
        } catch {
            throw .failed(error.description)
        }
        if reply.succeeded == true { return reply.header?.revision ?? 0 }
        let leader = reply.range(0).first
        guard let leader, leader.value == me, leader.lease == lease else { throw .notLeader(current: leader?.value) }
        let stored = reply.range(1).first
        // The client sends a transaction again to the next endpoint when the first did not
        // answer: if that first one was applied, the stored state is exactly ours.
        if let stored, stored.value == stateText { return stored.modRevision }
        let current = stored.flatMap { kv in
            (try? JSONDecoder().decode(GroupState.self, from: Data(kv.value.utf8))).map { LedgerEntry(state: $0, revision: kv.modRevision) }
        }
        throw .stale(current)
    }

    // MARK: Values

    static func voteText(_ vote: Vote) -> String {
        JSONValue.object(["verdict": .string(vote.verdict.rawValue), "since": .number(Double(vote.since.milliseconds))]).jsonText
    }

    static func vote(_ kv: KeyValue, votesPrefix: String) -> Vote? {
        let parts = kv.key.dropFirst(votesPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let json = try? JSONDecoder().decode(JSONValue.self, from: Data(kv.value.utf8)),
            let verdict = json["verdict"]?.stringValue.flatMap(Verdict.init(rawValue:))
        else { return nil }
        return Vote(
            controller: String(parts[1]), site: String(parts[0]), verdict: verdict,
            since: Timestamp(milliseconds: Int64(json["since"]?.numberValue ?? 0)))
    }
}
