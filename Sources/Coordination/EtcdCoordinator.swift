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
/// This controller is quorate while its lease is certainly alive and it sees at least
/// `quorum` live members; it is the leader when, on top of that, the leader key holds its id
/// under its current lease.
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
    private var leaseDeadline: ContinuousClock.Instant?
    private var lastKeepAlive: ContinuousClock.Instant?
    private var myVotes: [String: Vote] = [:]
    /// The last view and when its request was sent.
    private var last: (view: CoordinationView, at: ContinuousClock.Instant)?
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

    var prefix: String { config.prefix }
    var leaderKey: String { "\(prefix)/leader" }
    var membersPrefix: String { "\(prefix)/members/" }
    var votesPrefix: String { "\(prefix)/votes/" }
    var groupsPrefix: String { "\(prefix)/groups/" }
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
        leaseDeadline = sent + config.leaseTTL
        lastKeepAlive = sent
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

    /// Live members, their votes and the leader, read in one transaction.
    public func view() async throws -> CoordinationView {
        sequence += 1
        let issued = sequence
        let sentAt = clock.now
        let reply = try await client.txn(
            compare: [],
            success: [
                EtcdClient.requestRange(prefix: membersPrefix), EtcdClient.requestRange(prefix: votesPrefix),
                EtcdClient.requestRange(key: leaderKey),
            ])
        let now = wallClock.now()
        var alive: [String: Int64] = [:]
        for kv in reply.range(0) {
            guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(kv.value.utf8)),
                let id = json["id"]?.stringValue
            else { continue }
            alive[id] = Int64(json["joined_at"]?.numberValue ?? 0)
        }
        let votes = reply.range(1).compactMap { Self.vote($0, votesPrefix: votesPrefix) }.filter { alive[$0.controller] != nil }
        let leaderKV = reply.range(2).first
        let leader = leaderKV?.value
        let leaseAlive = leaseDeadline.map { clock.now < $0 } ?? false
        let liveMembers = policy.members.filter { alive[$0] != nil }
        let quorate = leaseAlive && alive[me] != nil && liveMembers.count >= policy.quorum
        let problem: String? =
            if !leaseAlive { "this controller's lease is not alive" }
            else if alive[me] == nil { "this controller is not registered as a live member" }
            else if !quorate { "only \(liveMembers.count) of \(policy.members.count) members are alive (\(policy.quorum) needed)" }
            else { nil }
        // Leadership counts only under this process's lease.
        let leading = leader == me && leaderKV?.lease == lease
        let states = policy.members.map { id in
            MemberStatus(
                id: id, alive: alive[id] != nil, leaseAgeMs: alive[id].map { max(now.milliseconds - $0, 0) },
                leader: id == leader && (id != me || leading))
        }
        var view = CoordinationView(
            backend: "etcd", me: me, policy: policy, votes: votes, leader: leader == me && !leading ? nil : leader,
            quorate: quorate, memberStates: states, problem: problem)
        view.sequence = issued
        // A slower, older read never replaces a newer one; its age counts from its request.
        if last.map({ $0.view.sequence < issued }) ?? true { last = (view, sentAt) }
        registered = alive[me] != nil
        return view
    }

    /// Creates the leader key under this controller's lease if it is absent; returns the view after.
    public func campaign() async throws -> CoordinationView {
        guard let lease else { return try await view() }
        _ = try await client.txn(
            compare: [EtcdClient.compare(leaderKey, "CREATE", "0")],
            success: [EtcdClient.requestPut(leaderKey, me, lease: lease)])
        return try await view()
    }

    /// Revokes the lease: this controller's votes, membership and leadership go at once.
    public func leave() async {
        guard let lease else { return }
        self.lease = nil
        leaseDeadline = nil
        try? await client.revoke(lease)
    }

    /// One coordination round, which never throws: (re-)joins when there is no lease,
    /// renews the lease when a third of its TTL has passed, reads the view and campaigns when
    /// there is no leader. Any failure gives a view that is not quorate, saying why.
    public func refresh() async -> CoordinationView {
        do {
            if lease == nil { try await join() }
            if let lease, let lastKeepAlive, clock.now - lastKeepAlive >= config.leaseTTL / 3 {
                let sent = clock.now
                let ttl = try await client.keepAlive(lease)
                guard ttl > 0 else {
                    self.lease = nil
                    leaseDeadline = nil
                    return notQuorate("this controller's lease expired (silent for longer than lease_ttl \(config.leaseTTL.text)); joining again")
                }
                self.lastKeepAlive = sent
                leaseDeadline = sent + .seconds(ttl)
            }
            // The membership key is gone while the lease lives (deleted by hand, a restore):
            // announce it again.
            if let lease, !registered { try await register(lease: lease) }
            var view = try await view()
            if view.quorate && view.leader == nil { view = try await campaign() }
            return view
        } catch {
            // A passing failure (every endpoint slow once) does not end a leadership whose
            // lease is certainly alive: no one else can lead before it expires, and every
            // change is still guarded in etcd. The last view stands until then.
            if let last, let leaseDeadline, clock.now < leaseDeadline, last.view.quorate {
                var view = last.view
                view.problem = nil
                return view
            }
            return notQuorate("etcd: \(error)")
        }
    }

    private func notQuorate(_ problem: String) -> CoordinationView {
        let members = policy.members.map { id in
            MemberStatus(id: id, alive: id == me ? false : (last?.view.memberStates?.first { $0.id == id }?.alive ?? false))
        }
        sequence += 1
        var view = CoordinationView(
            backend: "etcd", me: me, policy: policy, votes: [], leader: nil, quorate: false, memberStates: members,
            problem: problem)
        view.sequence = sequence
        last = (view, clock.now)
        return view
    }

    // MARK: GroupLedger

    /// This coordinator holds the group state.
    public nonisolated var ledger: (any GroupLedger)? { self }

    public func loadGroups() async throws(CoordinationError) -> [String: LedgerEntry] {
        let reply = try await client.range(prefix: groupsPrefix)
        var out: [String: LedgerEntry] = [:]
        for kv in reply.pairs {
            let name = String(kv.key.dropFirst(groupsPrefix.count))
            guard let state = try? JSONDecoder().decode(GroupState.self, from: Data(kv.value.utf8)) else {
                throw .rejected("the stored state of group \(name) is unreadable")
            }
            out[name] = LedgerEntry(state: state, revision: kv.modRevision)
        }
        return out
    }

    public func commitGroup(_ name: String, state: GroupState, incidents: [Incident], expected: Int64)
        async throws(LedgerError) -> Int64
    {
        guard let lease, await mayAct() else { throw .notLeader(current: last?.view.leader) }
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
            throw .failed(.rejected("cannot encode the state of group \(name): \(error)"))
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
            throw .failed(error)
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

    public func mayAct() async -> Bool {
        guard lease != nil, let deadline = leaseDeadline, let last else { return false }
        let now = clock.now
        return now < deadline && last.view.isLeader && now - last.at < config.leaseTTL
    }

    // MARK: Event and incident exchange

    /// Puts this controller's events (by their local id), in transactions of at most 100
    /// events and about 256 KiB (etcd refuses requests above 1.5 MiB), and prunes its events
    /// more than `keep` ids behind the newest. Unleased: events outlive their controller.
    public func upload(events: [Event], keep: Int64 = 10_000) async throws(CoordinationError) {
        guard let lastID = events.last?.id else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var batch: [JSONValue] = []
        var bytes = 0
        for event in events {
            guard let id = event.id, let data = try? encoder.encode(event) else { continue }
            if !batch.isEmpty && (batch.count >= 100 || bytes + data.count > 256 << 10) {
                _ = try await client.txn(compare: [], success: batch)
                batch = []
                bytes = 0
            }
            batch.append(EtcdClient.requestPut(eventKey(me, id), String(decoding: data, as: UTF8.self)))
            bytes += data.count
        }
        if !batch.isEmpty { _ = try await client.txn(compare: [], success: batch) }
        if lastID > keep {
            _ = try await client.txn(
                compare: [], success: [EtcdClient.requestDelete(from: "\(eventsPrefix)\(me)/", to: eventKey(me, lastID - keep))])
        }
    }

    /// Other controllers' events and every incident changed after revision `after`, oldest
    /// first, with the revision to continue from. A page never ends inside a revision (one
    /// upload transaction puts many events at one revision): a full page gives back its last
    /// revision's events to the next call, or, when the page is all one revision, that
    /// revision is read whole.
    public func download(after: Int64, limit: Int = 500) async throws(CoordinationError) -> Exchange {
        let reply = try await client.txn(
            compare: [],
            success: [
                .object(["request_range": EtcdClient.range(prefix: eventsPrefix, minModRevision: after + 1, limit: limit, sortByModification: true)]),
                .object(["request_range": EtcdClient.range(prefix: incidentsPrefix, minModRevision: after + 1, sortByModification: true)]),
            ])
        var eventKVs = reply.range(0)
        var cursor = reply.header?.revision ?? after
        if limit > 0, eventKVs.count >= limit, let last = eventKVs.last?.modRevision {
            if eventKVs.first?.modRevision == last {
                let whole = try await client.range(prefix: eventsPrefix, minModRevision: last, maxModRevision: last)
                eventKVs = whole.pairs
                cursor = last
            } else {
                eventKVs.removeAll { $0.modRevision == last }
                cursor = last - 1
            }
        }
        let mine = "\(eventsPrefix)\(me)/"
        var events: [(origin: String, event: Event)] = []
        for kv in eventKVs where !kv.key.hasPrefix(mine) {
            guard var event = try? JSONDecoder().decode(Event.self, from: Data(kv.value.utf8)) else { continue }
            event.id = nil
            // The key names the controller and its local id; the time and kind tell a reused
            // id (a controller whose state was wiped) from a re-sent event.
            events.append(("\(kv.key)@\(event.at.milliseconds)/\(event.kind.rawValue)", event))
        }
        let incidents = reply.range(1).filter { $0.modRevision <= cursor }.compactMap {
            try? JSONDecoder().decode(Incident.self, from: Data($0.value.utf8))
        }
        return Exchange(events: events, incidents: incidents, cursor: max(cursor, after))
    }

    func eventKey(_ controller: String, _ id: Int64) -> String {
        let digits = String(id)
        return "\(eventsPrefix)\(controller)/\(String(repeating: "0", count: max(0, 16 - digits.count)))\(digits)"
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

/// What other controllers recorded since a revision.
public struct Exchange: Sendable {
    /// Their events, each with the etcd key it came from (unique, for de-duplication).
    public var events: [(origin: String, event: Event)]
    /// Incidents written since.
    public var incidents: [Incident]
    /// The revision to continue from.
    public var cursor: Int64
}
