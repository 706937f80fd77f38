/// The state machine of one failover group (DESIGN.md; the table is in `docs/fsm.md`).
///
/// Pure value type: it reads no clock and performs no I/O. Its owner feeds it snapshots
/// of the sites (`observe`), the results of the hooks and steps it asked for, and humans'
/// commands; it returns the effects to perform, in order. Every decision is taken on the
/// snapshot passed in.
public struct GroupFSM: Sendable, Equatable {
    /// The group's configuration.
    public let config: GroupConfig
    /// The durable state.
    public internal(set) var state: GroupState

    /// Creates a machine, from a stored state or a fresh one.
    public init(config: GroupConfig, state: GroupState? = nil) {
        self.config = config
        self.state = state ?? GroupState(primary: config.primary)
    }

    /// A short name of where the group is: `steady`, `paused`, `returning`, `awaiting_hook`,
    /// `running`, `suspended`, `stuck`.
    public var phase: String {
        if let run = state.run { return run.phase.rawValue }
        if state.paused { return "paused" }
        // A drill with --failback between its two legs: the way back starts on the next snapshot.
        return state.pendingReturn == nil ? "steady" : "returning"
    }

    /// Whether the passing of time alone may change what `observe` decides (a cooldown
    /// running out, a failback coming due), so the owner needs to feed it snapshots even
    /// when no verdict changes.
    public var waitsForTime: Bool {
        guard state.run == nil, !state.paused else { return false }
        // A held failover (cooldown, a standby still lagging, a write that failed) is judged
        // again on every tick, not only when a verdict changes.
        if state.hold != nil || state.pendingReturn != nil { return true }
        return config.failback == .automatic && state.primary != config.primary
    }

    /// Takes in a snapshot of the sites: may start an automatic failover or failback.
    public mutating func observe(_ snapshot: WorldSnapshot) -> [GroupEffect] {
        guard snapshot.canAct, state.run == nil else { return [] }
        if state.pendingReturn != nil, !state.paused { return returnAfterDrill(snapshot) }
        let primary = snapshot.site(state.primary)
        guard primary.verdict == .down else {
            state.hold = nil
            return failbackIfDue(snapshot)
        }
        // steady ➜ awaiting hook / running: the quorum says the primary is down
        let election = Election.elect(config, from: state.primary, in: snapshot)
        if let reason = holdReason(primary: primary, election: election, at: snapshot.at) {
            return hold(reason, primary: primary, election: election, snapshot: snapshot)
        }
        var run = newRun(.failover, to: election.target!, automatic: true, planned: false)
        run.lastOK = primary.lastOK
        run.firstFail = primary.firstFail
        run.detected = primary.since
        return start(run, at: snapshot.at, why: downReason(primary, snapshot), election: election)
    }

    /// Why an automatic failover of the down primary must wait, checked in this order.
    private func holdReason(primary: SiteSnapshot, election: ElectionResult, at now: Timestamp) -> HoldReason? {
        if state.paused { return .paused }
        if config.failover == .manual { return .manualMode }
        if state.hold == Hold(reason: .vetoed, episode: primary.since) { return .vetoed }
        if let last = state.lastAutomaticAt, now < last.advanced(by: config.cooldown) { return .cooldown }
        if election.target == nil { return .noEligibleTarget }
        return nil
    }

    // steady ➜ steady: a held-back failover is reported once per reason and down episode
    private mutating func hold(
        _ reason: HoldReason, primary: SiteSnapshot, election: ElectionResult, snapshot: WorldSnapshot
    ) -> [GroupEffect] {
        let hold = Hold(reason: reason, episode: primary.since)
        guard state.hold != hold else { return [] }
        state.hold = hold
        let name = config.name
        let down = downReason(primary, snapshot)
        let (kind, message): (EventKind, String)
        switch reason {
        case .paused:
            (kind, message) = (.failoverHeld, "not failing over \(name): \(down), but the group is paused")
        case .manualMode:
            let to = election.target.map { " --to \($0)" } ?? ""
            (kind, message) = (.failoverNeeded, "\(name) needs a failover: \(down); failover is manual (failoverctl failover --group \(name)\(to))")
        case .vetoed:
            return []
        case .cooldown:
            let until = state.lastAutomaticAt.map { $0.advanced(by: config.cooldown) }
            (kind, message) = (.failoverHeld, "not failing over \(name): \(down), but the last automatic failover was less than \(config.cooldown.text) ago (cooldown until \(until.map(\.description) ?? "?"))")
        case .noEligibleTarget:
            (kind, message) = (.noEligibleTarget, "cannot fail over \(name): \(down), and no standby is eligible (\(election.summary))")
        }
        let details: [String: JSONValue] = [
            "reason": .string(reason.rawValue), "primary": .string(state.primary),
            "candidates": Self.json(election.candidates),
        ]
        return [.event(GroupEvent(kind: kind, site: state.primary, epoch: state.epoch, message: message, details: details))]
    }

    /// `east down by 2 of 3 controllers`.
    func downReason(_ site: SiteSnapshot, _ snapshot: WorldSnapshot) -> String {
        "\(site.name) down by \(snapshot.needed) of \(snapshot.members) controllers"
    }

    // steady ➜ awaiting hook / running (failback): the configured primary has been up for
    // `failback_after` and failback is automatic
    private mutating func failbackIfDue(_ snapshot: WorldSnapshot) -> [GroupEffect] {
        let home = snapshot.site(config.primary)
        guard config.failback == .automatic, state.primary != config.primary, !state.paused, home.verdict == .up,
            let upSince = home.since, snapshot.at >= upSince.advanced(by: config.failbackAfter),
            state.failbackVetoed != upSince
        else { return [] }
        if let last = state.lastAutomaticAt, snapshot.at < last.advanced(by: config.cooldown) { return [] }
        let candidate = Election.candidate(config.primary, group: config, snapshot: snapshot, force: false, primary: state.primary)
        guard candidate.ineligible == nil else { return [] }
        var run = newRun(.failback, to: config.primary, automatic: true, planned: true)
        run.homeSince = upSince
        let why = "\(config.primary) has been up for \(snapshot.at.since(upSince).text) (failback_after \(config.failbackAfter.text))"
        return start(run, at: snapshot.at, why: why, election: nil)
    }

    // steady ➜ running (drill back): a drill with --failback returns to its origin once
    // that site is still eligible; paused, it waits; gone, the return is dropped
    private mutating func returnAfterDrill(_ snapshot: WorldSnapshot) -> [GroupEffect] {
        guard let home = state.pendingReturn else { return [] }
        let candidate = Election.candidate(home, group: config, snapshot: snapshot, force: false, primary: state.primary)
        // A database read before the drill ended shows the old primary as it was before its
        // rejoin: wait (up to a minute) for a reading taken after.
        let site = snapshot.site(home)
        if candidate.ineligible != nil, let since = state.pendingReturnSince, let seen = site.databaseSeenAt, seen <= since,
            snapshot.at < since.advanced(by: .seconds(60))
        {
            return []
        }
        state.pendingReturn = nil
        state.pendingReturnSince = nil
        if let why = candidate.ineligible {
            let message = "not switching \(config.name) back to \(home) after the drill: \(home) is not eligible (\(why))"
            return [.event(GroupEvent(kind: .failoverHeld, site: home, epoch: state.epoch, message: message, details: ["reason": .string("failback_target_ineligible")]))]
        }
        var back = newRun(.drill, to: home, automatic: false, planned: true)
        back.thenFailback = false
        return start(back, at: snapshot.at, why: "failback after drill \(state.lastIncident ?? "")", election: nil)
    }

    /// A run of the next epoch from the current primary to `to`.
    func newRun(_ kind: RunKind, to: String, automatic: Bool, planned: Bool, force: Bool = false) -> GroupRun {
        GroupRun(
            kind: kind, from: state.primary, to: to, epoch: state.epoch + 1, step: 0, phase: .awaitingHook,
            automatic: automatic, planned: planned, force: force, thenFailback: false)
    }

    /// Encodes a value as JSON details (never fails for the plain types used here).
    static func json<T: Encodable>(_ value: T) -> JSONValue { (try? JSONValue(encoding: value)) ?? .null }
}
