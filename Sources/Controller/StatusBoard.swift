import Coordination
import EventLog
import FailoverCore
import Logging

/// The controller's live view of every site (site FSMs, this controller's votes, the
/// quorum verdicts), and the one place that turns site FSM effects into events, log lines
/// and published votes. Who may act is not decided here (`LeadershipMachine`).
///
/// Site monitors report each finished round here; `status` snapshots are built from it.
/// Statuses are written to the state database in batches (`flush()`); transitions are
/// written at once, because an event must be durable before the controller acts on it.
actor StatusBoard {
    struct SiteEntry {
        var config: SiteConfig
        var fsm: SiteFSM
        var checks: [ProbeResult] = []
        var quorum: QuorumVerdict
        /// Results changed since the last save.
        var dirty = false
        /// The state or quorum verdict changed since the last save.
        var changed = false
        /// This controller's current vote has not reached coordination yet.
        var voteUnpublished = false
        /// When the quorum verdict last changed.
        var quorumSince: Timestamp?
        /// The streak that made this controller's verdict down: its last good and first
        /// failed round (the start of an incident's RTO).
        var downStreak: (lastOK: Timestamp?, firstFail: Timestamp?) = (nil, nil)
        /// The last successful `postgres` check's reading of the site's database, and when.
        var database: (observation: DatabaseObservation, at: Timestamp)?
    }

    let controllerID: String
    let startedAt: Timestamp
    let store: EventStore
    let coordinator: any Coordinator
    let wallClock: any WallClock
    let logger: Logger
    /// Every site with its FSM, latest results and quorum verdict.
    private(set) var sites: [String: SiteEntry] = [:]
    private let order: [String]
    private var coordination: CoordinationStatus
    private(set) var schedule = ScheduleStats()
    private var lastSave: Timestamp?
    private var completedRounds = 0
    private var roundWaiters: [(Int, CheckedContinuation<Void, Never>)] = []
    /// Votes needed for a quorum verdict (from the last coordination view).
    var needed = 1
    /// Where a fresh snapshot goes when a quorum verdict changes (the leadership executor).
    var snapshotSink: (@Sendable (WorldSnapshot) -> Void)?
    /// The groups' part of status reports, as the leadership executor publishes it.
    let published = PublishedGroups()
    var groupStatuses: [GroupStatus] { published.value }
    /// Whether the report shows the alert outbox.
    let alertsConfigured: Bool
    /// Each group's sites, for split-brain detection.
    let groupSites: [(group: String, sites: [String])]
    /// Groups in which two or more sites run a writable database primary right now.
    var splitGroups: Set<String> = []
    /// The sequence of the last coordination view taken in.
    private var appliedSequence: UInt64 = 0
    /// Where probe durations and results are counted (`GET /metrics`).
    let metrics: ControllerMetrics?

    init(
        config: ControllerConfig, startedAt: Timestamp, store: EventStore, coordinator: any Coordinator,
        wallClock: any WallClock, logger: Logger, metrics: ControllerMetrics? = nil
    ) {
        controllerID = config.id
        self.metrics = metrics
        alertsConfigured = !config.alerts.sinks.isEmpty
        groupSites = config.groups.map { ($0.name, $0.sites) }
        self.startedAt = startedAt
        self.store = store
        self.coordinator = coordinator
        self.wallClock = wallClock
        self.logger = logger
        order = config.sites.map(\.name)
        for site in config.sites {
            let quorum = QuorumVerdict(site: site.name, verdict: .unknown, votes: [:], needed: 1, quorate: false)
            sites[site.name] = SiteEntry(config: site, fsm: SiteFSM(thresholds: site.thresholds), quorum: quorum)
        }
        // `local` is quorate and leads from the start; etcd knows nothing until its first view.
        let local = config.coordination == .local
        let members = config.coordination.policy(me: config.id).members
        coordination = CoordinationStatus(
            backend: config.coordination.backend, quorate: local, leader: local ? config.id : nil, members: members,
            memberStates: members.map { MemberStatus(id: $0, alive: local, leader: local) })
    }

    /// Takes in one finished round of `site`: feeds it to the site's FSM and performs the
    /// FSM's effects (events, log lines, a published vote).
    func roundFinished(site: String, round: ProbeRound, lateness: Duration) async {
        schedule.record(lateness: lateness)
        metrics?.record(round, site: site)
        guard var entry = sites[site] else { return }
        let effects = entry.fsm.observe(round.outcome(require: entry.config.require), at: round.at)
        entry.checks = round.results
        if let observation = round.results.lazy.compactMap(\.database).first {
            entry.database = (observation.keepingTimeline(of: entry.database?.observation), round.at)
        }
        entry.dirty = true
        sites[site] = entry
        var changed = false
        for case .transition(let transition) in effects {
            sites[site]?.changed = true
            if transition.changesVerdict, transition.to.verdict == .down {
                sites[site]?.downStreak = (transition.lastOK, transition.firstFail)
            }
            record(transition, of: entry.config, round: round)
            changed = changed || transition.changesVerdict
        }
        if round.results.contains(where: { $0.kind == "postgres" }) { checkSplitBrain(site: site, at: round.at) }
        // A vote that could not be published is retried every round until it is.
        if changed || entry.voteUnpublished {
            let published = await publishAndTally(site: site, verdict: entry.fsm.verdict, since: entry.fsm.since ?? round.at)
            sites[site]?.voteUnpublished = !published
        }
    }

    /// Returns once `count` rounds (of any site) have been completed since the start:
    /// taken in here and their site free for its next round.
    func waitForRounds(_ count: Int) async {
        guard completedRounds < count else { return }
        await withCheckedContinuation { continuation in roundWaiters.append((count, continuation)) }
    }

    /// Rounds completed since the start (the watchdog checks that it grows).
    var completedRoundCount: Int { completedRounds }

    /// Called by the scheduler after a round's site is free again.
    func roundCompleted() {
        completedRounds += 1
        let ready = roundWaiters.filter { $0.0 <= completedRounds }
        roundWaiters.removeAll { $0.0 <= completedRounds }
        for waiter in ready { waiter.1.resume() }
    }

    private func record(_ transition: SiteTransition, of site: SiteConfig, round: ProbeRound) {
        let message = VerdictMessage.transition(transition, site: site, round: round)
        var log = logger
        log[metadataKey: "site"] = "\(site.name)"
        if transition.changesVerdict { log.notice("\(message)") } else { log.info("\(message)") }
        let details = VerdictMessage.details(transition, site: site, round: round, message: message)
        append(Event(at: transition.at, controller: controllerID, site: site.name, kind: .siteStateChanged, details: details))
    }

    /// Publishes this controller's vote and re-reads the quorum verdict of `site`; false
    /// when coordination could not be reached (logged).
    private func publishAndTally(site: String, verdict: Verdict, since: Timestamp) async -> Bool {
        do {
            try await coordinator.publish([Vote(controller: controllerID, site: site, verdict: verdict, since: since)])
            let view = try await coordinator.view()
            apply(view, sites: [site])
            return true
        } catch {
            logger.warning("cannot publish the vote on site \(site), retrying next round: \(error)", metadata: ["site": "\(site)"])
            return false
        }
    }

    /// Takes in a fresh coordination view: records quorum verdicts that changed.
    /// Only `names` are compared when given (a vote of ours can change only its own site).
    func apply(_ view: CoordinationView, sites names: [String]? = nil) {
        // Views can arrive out of order (a vote's re-read and the coordination loop's poll):
        // an older one never replaces a newer one.
        guard view.sequence == 0 || view.sequence > appliedSequence else { return }
        appliedSequence = view.sequence
        coordination = view.status
        needed = view.policy.quorum
        var verdictChanged = false
        defer { if verdictChanged { snapshotSink?(snapshot()) } }
        for name in names ?? order {
            guard var entry = sites[name] else { continue }
            let quorum = view.verdict(for: name)
            defer { sites[name] = entry }
            guard quorum.verdict != entry.quorum.verdict else {
                entry.quorum = quorum
                continue
            }
            let from = entry.quorum.verdict
            entry.quorum = quorum
            entry.quorumSince = wallClock.now()
            entry.changed = true
            verdictChanged = true
            let message = VerdictMessage.quorum(site: name, from: from, to: quorum)
            logger.notice("\(message)", metadata: ["site": "\(name)"])
            var fields: [String: JSONValue] = [
                "from": .string(from.rawValue), "to": .string(quorum.verdict.rawValue),
                "votes": .object(quorum.votes.mapValues { .string($0.rawValue) }),
                "needed": .number(Double(quorum.needed)), "message": .string(message),
            ]
            if anotherLeads { fields["alert"] = .bool(false) }
            let details: JSONValue = .object(fields)
            append(Event(at: wallClock.now(), controller: controllerID, site: name, kind: .quorumVerdictChanged, details: details))
        }
    }

    /// Whether another controller leads: what every controller records (quorum verdicts,
    /// split brain) then alerts from the leader only, marked `alert: false` here. While no
    /// one leads every controller alerts, and the receivers' de-duplication by key merges them.
    var anotherLeads: Bool {
        coordination.leader != nil && !(coordination.quorate && coordination.leader == controllerID)
    }

    /// Appends an event; a failure is logged loudly, never hidden.
    func append(_ event: Event) {
        do {
            try store.recordEvent(event)
        } catch {
            logger.error("cannot write event \(event.kind.rawValue) to the event log: \(error)")
        }
    }

    /// The coordination status as reported: the leader shown is the one that acts, so while
    /// this controller holds the leader key but its machine does not act (its lease is not
    /// certainly alive, or it is taking over), it does not show itself leading.
    var actingCoordination: CoordinationStatus {
        var status = coordination
        // `local` always leads: nothing to say (and a board alone, as in tests, has no executor).
        guard status.backend != "local", status.leader == controllerID, !published.leading else { return status }
        status.leader = nil
        status.memberStates = status.memberStates.map { member in
            var member = member
            member.leader = false
            return member
        }
        status.problem = status.problem ?? "this controller holds the leader key but does not act: its lease is not certainly alive"
        return status
    }

    /// A status report of this moment.
    func report() -> StatusReport {
        var statuses = order.compactMap { sites[$0].map(Self.status) }
        for index in statuses.indices {
            let name = statuses[index].name
            statuses[index].primaryOf = groupStatuses.filter { $0.primary == name }.map(\.name)
            statuses[index].standbyOf = groupStatuses.filter { $0.primary != name && $0.sites.contains(name) }.map(\.name)
        }
        var report = StatusReport(
            controller: controllerID, startedAt: startedAt, generatedAt: wallClock.now(), source: "api",
            coordination: actingCoordination, sites: statuses, groups: groupStatuses)
        if alertsConfigured, let alerts = try? store.outboxStatus() { report.add(alerts: alerts) }
        return report
    }

    /// The immutable view the group machines decide on: every site's quorum verdict with
    /// its down streak, latency, and whether this controller may act.
    func snapshot() -> WorldSnapshot {
        let now = wallClock.now()
        let canAct = coordination.quorate && coordination.leader == controllerID
        let whyNot = coordination.quorate ? "this controller is not the leader (\(coordination.leader ?? "none"))" : "no quorum"
        let views = order.compactMap { name -> SiteSnapshot? in
            guard let entry = sites[name] else { return nil }
            let totals = entry.checks.map(\.timings.total)
            let down = entry.quorum.verdict == .down
            return SiteSnapshot(
                name: name, verdict: entry.quorum.verdict, since: entry.quorumSince,
                lastOK: down ? entry.downStreak.lastOK : entry.fsm.lastOK, firstFail: down ? entry.downStreak.firstFail : nil,
                latencyMs: totals.isEmpty ? nil : totals.reduce(0, +) / Double(totals.count),
                lag: entry.checks.first { $0.lagBytes != nil || $0.lagSeconds != nil }
                    .map { ReplicationLag(bytes: $0.lagBytes, seconds: $0.lagSeconds) },
                database: entry.database?.observation, databaseSeenAt: entry.database?.at)
        }
        return WorldSnapshot(
            at: now, canAct: canAct, whyNot: canAct ? nil : whyNot, sites: views, needed: needed,
            members: coordination.members.count)
    }

    /// The last successful `postgres` check's reading of `site`'s database, and when it was
    /// read (the `postgres` plugin measures a failover's data at risk against it).
    func lastDatabase(of site: String) -> (observation: DatabaseObservation, at: Timestamp)? {
        sites[site]?.database
    }

    /// Connects the leadership executor: where snapshots go.
    func connect(snapshots sink: @escaping @Sendable (WorldSnapshot) -> Void) {
        snapshotSink = sink
    }

    /// Saves site statuses in one transaction: at once when a state or verdict changed,
    /// otherwise fresh results at most every `resultsEvery`, so an idle controller does
    /// not write every tick. Events, not this, are the durable record of transitions.
    func flush(resultsEvery: Duration = .seconds(30)) {
        let now = wallClock.now()
        let resultsDue = lastSave.map { now.since($0) >= resultsEvery } ?? true
        let due = order.compactMap { name in
            sites[name].flatMap { $0.changed || ($0.dirty && resultsDue) ? $0 : nil }
        }
        guard !due.isEmpty else { return }
        do {
            try store.saveSiteStatuses(due.map(Self.status), controller: controllerID, at: now)
            for entry in due {
                sites[entry.config.name]?.dirty = false
                sites[entry.config.name]?.changed = false
            }
            if resultsDue { lastSave = now }
        } catch {
            logger.error("cannot save site statuses: \(error)")
        }
    }

    private static func status(_ entry: SiteEntry) -> SiteStatus {
        SiteStatus(
            name: entry.config.name, region: entry.config.region, state: entry.fsm.state, since: entry.fsm.since,
            quorum: entry.quorum, checks: entry.checks)
    }
}

/// How well probe rounds keep to their schedule.
struct ScheduleStats: Sendable, Codable {
    /// Rounds run.
    var rounds = 0
    /// Rounds that started more than 100 ms after their deadline.
    var lateRounds = 0
    /// The largest lateness seen, in milliseconds.
    var maxLatenessMs: Int64 = 0

    mutating func record(lateness: Duration) {
        rounds += 1
        let ms = max(lateness.milliseconds, 0)
        if ms > 100 { lateRounds += 1 }
        maxLatenessMs = max(maxLatenessMs, ms)
    }

    enum CodingKeys: String, CodingKey {
        case rounds
        case lateRounds = "late_rounds", maxLatenessMs = "max_lateness_ms"
    }
}
