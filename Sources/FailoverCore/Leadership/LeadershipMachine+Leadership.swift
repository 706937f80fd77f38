/// Inputs about membership and leadership: views, the lease, ticks.
extension LeadershipMachine {
    /// Takes in one read of the coordination backend (its request sent at `sentAt`).
    ///
    /// A view older than one already taken is ignored. The view names this controller the
    /// leader only as of its request; the machine leads only while its lease is safe, too.
    public mutating func viewRead(
        _ view: CoordinationView, sentAt: ContinuousClock.Instant, now: ContinuousClock.Instant, wall: Timestamp
    ) -> [Action] {
        guard view.sequence == 0 || view.sequence > lastSequence else { return [] }
        lastSequence = view.sequence
        var actions: [Action] = []
        if let until = view.leaseValidUntil { actions += leaseRenewed(validUntil: until, now: now) }
        actions += membershipChanges(view, wall: wall)
        formerLeader = coordination.leader
        coordination = view.status
        let viewTerm = settings.shared ? view.term : (view.isLeader ? settings.localTerm : nil)
        let leads = view.isLeader && viewTerm != nil && leaseSafe(at: now)
        switch role {
        // leading ➜ follower: the view says another leads, no quorum, or a new term of ours
        case .leading(let term) where !leads || viewTerm != term:
            actions += stepDown(why: view.isLeader ? "its leadership term changed" : Self.whyNot(view), wall: wall)
            if leads, let viewTerm { actions += takeOver(term: viewTerm, view: view, sentAt: sentAt, now: now, wall: wall) }
            else { actions += follow(view) }
        case .leading:
            // leading ➜ leading: a ledger state newer than ours, or gone back (a restore)
            actions += checkLedger(view, sentAt: sentAt, now: now, wall: wall)
        // follower ➜ leading: the backend names us leader under our live lease
        case .follower where leads:
            actions += takeOver(term: viewTerm!, view: view, sentAt: sentAt, now: now, wall: wall)
        case .follower:
            actions += follow(view)
        }
        actions += takeIncidents(view.incidents)
        return actions + wake(now: now)
    }

    /// A keepalive (or grant) sent at some instant was acknowledged: the lease is alive
    /// until `validUntil` (its send time plus the TTL granted).
    public mutating func leaseRenewed(validUntil: ContinuousClock.Instant, now: ContinuousClock.Instant) -> [Action] {
        if leaseValidUntil.map({ validUntil > $0 }) ?? true { leaseValidUntil = validUntil }
        return wake(now: now)
    }

    /// The lease is gone (expired, revoked, never granted): stop acting at once.
    public mutating func leaseLost(why: String, now: ContinuousClock.Instant, wall: Timestamp) -> [Action] {
        leaseValidUntil = nil
        guard term != nil else { return [] }
        return stepDown(why: why, wall: wall)
    }

    /// Time passed: the lease's safe deadline, retries of failed commits, and the groups
    /// that wait for time (cooldown, failback) are judged again on the last snapshot.
    public mutating func tick(now: ContinuousClock.Instant, wall: Timestamp) -> [Action] {
        var actions: [Action] = []
        if term != nil && !leaseSafe(at: now) {
            let until = leaseValidUntil.map { " (valid until \(Self.text(now.duration(to: $0))) from now, margin \(settings.margin.text))" } ?? ""
            actions += stepDown(why: "its lease may expire before a newer keepalive is acknowledged\(until)", wall: wall)
        }
        if wakeAt.map({ $0 <= now }) == true { wakeAt = nil }
        for name in settings.groups.map(\.name) {
            guard var slot = slots[name] else { continue }
            if let at = slot.retryAt, at <= now {
                slot.retryAt = nil
                slots[name] = slot
                actions += pump(name, now: now, wall: wall)
            } else if term != nil, slot.fsm.waitsForTime, !slot.queue.contains(where: \.isObserve) {
                slot.queue.append(.observe)
                slots[name] = slot
                actions += pump(name, now: now, wall: wall)
            }
        }
        return actions + wake(now: now)
    }

    /// The wake-up the executor needs next: the lease's safe deadline while leading, and
    /// the earliest retry.
    mutating func wake(now: ContinuousClock.Instant) -> [Action] {
        var next = slots.values.compactMap(\.retryAt).min()
        if term != nil, settings.shared, let until = leaseValidUntil {
            let deadline = until - settings.margin
            next = min(next ?? deadline, deadline)
        }
        // A moment already past is this very input's business, not a wake-up's.
        guard let next, next > now, next != wakeAt else { return [] }
        // An earlier wake-up still pending covers a later one.
        if let pending = wakeAt, pending > now, pending < next { return [] }
        wakeAt = next
        return [.wake(at: next)]
    }

    // follower ➜ leading: every group takes the ledger's state as read in the view that
    // names us leader (no change can follow it but ours), and resumes its unfinished run
    mutating func takeOver(
        term: Int64, view: CoordinationView, sentAt: ContinuousClock.Instant, now: ContinuousClock.Instant, wall: Timestamp
    ) -> [Action] {
        role = .leading(term: term)
        var actions: [Action] = [
            .log(.notice, "this controller leads (term \(term)): it acts for \(settings.groups.count) groups from the shared state", group: nil)
        ]
        // A local controller always leads: its start is the event, not a leadership change.
        if settings.shared { actions += leadershipEvent(gained: true, term: term, wall: wall) }
        for group in settings.groups {
            if let entries = view.groups {
                if let entry = entries[group.name], let held = slots[group.name]?.fsm.state.epoch, entry.state.epoch < held {
                    // The ledger holds an older epoch than our event log (a restored backup): ours is written again.
                    slots[group.name]?.revision = entry.revision
                    slots[group.name]?.queue.insert(.rewrite, at: 0)
                    actions.append(.log(.critical, "group \(group.name): the shared state holds epoch \(entry.state.epoch), older than epoch \(held) of this controller's event log: etcd restored from a backup? Writing ours again", group: group.name))
                } else {
                    actions += take(entries[group.name], group: group, leading: true)
                }
            }
            let reason = settings.shared ? "after taking over as the leader" : "after a controller restart"
            slots[group.name]?.queue.insert(.restart(reason: reason), at: 0)
            if lastSnapshot != nil { slots[group.name]?.queue.append(.observe) }
            actions += pump(group.name, now: now, wall: wall)
        }
        return actions
    }

    // leading ➜ follower: every running hook and step is cancelled at once; the next
    // leader resumes them from the ledger
    mutating func stepDown(why: String, wall: Timestamp) -> [Action] {
        guard term != nil else { return [] }
        role = .follower
        let cancelled = running
        var actions: [Action] = []
        for name in settings.groups.map(\.name) {
            guard var slot = slots[name] else { continue }
            slot.work = nil
            slot.retryAt = nil
            slot.failures = 0
            for case .command(let id, _, _) in slot.queue {
                actions.append(.answer(command: id, .refused("this controller stopped leading before it was recorded (\(why))")))
            }
            slot.queue = []
            slots[name] = slot
        }
        let message = "this controller stops acting at once (\(why)); \(cancelled.count) running steps or hooks cancelled, the leader resumes them"
        return [.cancel(cancelled, reason: why), .log(.critical, message, group: nil)] + actions
            + leadershipEvent(gained: false, why: why, wall: wall)
    }

    // follower ➜ follower: mirror the ledger's states for the read model
    mutating func follow(_ view: CoordinationView) -> [Action] {
        guard let entries = view.groups else { return [] }
        return settings.groups.flatMap { take(entries[$0.name], group: $0, leading: false) }
    }

    /// While leading, a view whose ledger state differs from ours with no commit in flight:
    /// newer (a write of ours whose answer was lost, a change behind our back) is taken and
    /// resumed; a lower epoch (etcd restored from a backup) is overwritten with ours.
    mutating func checkLedger(
        _ view: CoordinationView, sentAt: ContinuousClock.Instant, now: ContinuousClock.Instant, wall: Timestamp
    ) -> [Action] {
        guard let entries = view.groups else { return [] }
        var actions: [Action] = []
        for group in settings.groups {
            guard let slot = slots[group.name], slot.inFlight == nil else { continue }
            // A view sent before our last answer can show an older revision: not news.
            if let answered = slot.answeredAt, sentAt < answered { continue }
            let entry = entries[group.name]
            // Absent (never written) is revision 0, as this machine counts it.
            guard (entry?.revision ?? 0) != slot.revision else { continue }
            if let entry, entry.state.epoch >= slot.fsm.state.epoch, entry.revision > slot.revision {
                actions += take(entry, group: group, leading: true)
                slots[group.name]?.queue.insert(.restart(reason: "after re-reading the shared state"), at: 0)
            } else {
                // Gone back: our state is the newest; write it over the ledger's.
                slots[group.name]?.revision = entry?.revision ?? 0
                slots[group.name]?.queue.insert(.rewrite, at: 0)
                actions.append(
                    .log(
                        .critical,
                        "group \(group.name): the shared state went back (revision \(entry?.revision ?? 0), epoch \(entry?.state.epoch ?? 0); this controller holds epoch \(slot.fsm.state.epoch) at revision \(slot.revision)): etcd restored from a backup? Writing ours again",
                        group: group.name))
            }
            actions += pump(group.name, now: now, wall: wall)
        }
        return actions
    }

    /// Takes `entry` as the state of `group` (nil: the ledger lacks it, so the local state
    /// stays and the first change writes it). A follower never takes a lower epoch either.
    mutating func take(_ entry: LedgerEntry?, group: GroupConfig, leading: Bool) -> [Action] {
        guard var slot = slots[group.name] else { return [] }
        guard let entry else {
            slot.revision = 0
            slots[group.name] = slot
            return []
        }
        guard entry.revision != slot.revision || leading else { return [] }
        // Epochs never go back here: a lower one is a restored backup, which the leader
        // overwrites with the newer state.
        guard leading || entry.state.epoch >= slot.fsm.state.epoch else { return [] }
        let (state, warnings) = Self.fitted(entry.state, group)
        var actions = warnings.map { Action.log(.critical, $0, group: group.name) }
        if state != slot.fsm.state {
            slot.fsm = GroupFSM(config: group, state: state)
            actions.append(.mirror(group: group.name, state: state))
        }
        slot.revision = entry.revision
        if slot.lastIncident?.id != state.lastIncident { slot.lastIncident = nil }
        slots[group.name] = slot
        return actions
    }

    /// Incidents read from the shared store: each becomes its group's last incident when
    /// the group's state names it.
    mutating func takeIncidents(_ incidents: [Incident]) -> [Action] {
        for incident in incidents {
            guard var slot = slots[incident.group], slot.fsm.state.lastIncident == incident.id else { continue }
            slot.lastIncident = incident
            slots[incident.group] = slot
        }
        return []
    }

    /// Why a view does not let this controller act.
    static func whyNot(_ view: CoordinationView) -> String {
        if !view.quorate { return view.problem ?? "no quorum" }
        return "leader now: \(view.leader ?? "none")"
    }

    static func text(_ duration: Duration) -> String { duration < .zero ? "-\((Duration.zero - duration).text)" : duration.text }
}

extension LeadershipMachine.GroupInput {
    var isObserve: Bool {
        if case .observe = self { return true }
        return false
    }
}
