/// The controller events of membership: quorum lost and regained, leadership gained and
/// lost, a member lost (recorded by the leader).
extension LeadershipMachine {
    /// Events for what changed between the last view and `view`.
    mutating func membershipChanges(_ view: CoordinationView, wall: Timestamp) -> [Action] {
        var actions: [Action] = []
        let me = settings.me
        let members = view.policy.members.count
        let live = view.memberStates.map { $0.filter(\.alive).count } ?? Set(view.votes.map(\.controller)).count
        if view.quorate != coordination.quorate {
            let why = view.problem.map { ": \($0)" } ?? ""
            let message =
                view.quorate
                ? "controller \(me) sees a quorum again (\(live) of \(members) members, \(view.policy.quorum) needed)"
                : "controller \(me) lost the quorum (\(live) of \(members) members, \(view.policy.quorum) needed)\(why); it takes no action"
            var details: [String: JSONValue] = [
                "message": .string(message), "members": .number(Double(members)), "live": .number(Double(live)),
                "needed": .number(Double(view.policy.quorum)),
            ]
            if let problem = view.problem { details["problem"] = .string(problem) }
            actions.append(.log(view.quorate ? .notice : .critical, message, group: nil))
            actions.append(.record(Event(at: wall, controller: me, kind: view.quorate ? .quorumRegained : .quorumLost, details: .object(details))))
        }
        let alive = Set((view.memberStates ?? []).filter(\.alive).map(\.id))
        if term != nil, view.isLeader, view.memberStates != nil {
            for member in view.policy.members where liveMembers.contains(member) && !alive.contains(member) && member != me {
                let message = "controller \(member) is lost: its lease expired, its votes no longer count (\(live) of \(members) members alive, \(view.policy.quorum) needed)"
                actions.append(.log(.error, message, group: nil))
                actions.append(
                    .record(
                        Event(
                            at: wall, controller: me, kind: .controllerLost,
                            details: .object(["message": .string(message), "member": .string(member), "live": .number(Double(live))]))))
            }
        }
        if view.memberStates != nil { liveMembers = alive }
        return actions
    }

    /// The event (and log line) of gaining or losing the leadership.
    func leadershipEvent(gained: Bool, term: Int64? = nil, why: String? = nil, wall: Timestamp) -> [Action] {
        let me = settings.me
        let previous = formerLeader
        let message =
            gained
            ? "controller \(me) is now the leader\(previous.map { $0 == me ? "" : " (was \($0))" } ?? ""); it acts for every group"
            : "controller \(me) is no longer the leader (\(why ?? "leader now: \(coordination.leader ?? "none")")); it stops acting at once"
        var details: [String: JSONValue] = [
            "message": .string(message), "leader": (gained ? me : coordination.leader).map(JSONValue.string) ?? .null,
        ]
        if let previous { details["previous"] = .string(previous) }
        if let term { details["term"] = .number(Double(term)) }
        return [
            .log(gained ? .notice : .warning, message, group: nil),
            .record(Event(at: wall, controller: me, kind: .leaderChanged, details: .object(details))),
        ]
    }
}
