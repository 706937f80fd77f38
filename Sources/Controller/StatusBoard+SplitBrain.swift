import FailoverCore
import Logging

/// Split brain: two writable PostgreSQL primaries in one group, recorded once per episode.
extension StatusBoard {
    /// Records a split brain: two or more sites of a group whose latest `postgres` check says
    /// they run a writable primary (a fenced old primary is not one). Once per episode, and
    /// its end once (which resolves the alert). While the group runs a failover of its own,
    /// the old and new primary overlap by design for a moment: that is not recorded.
    func checkSplitBrain(site: String, at: Timestamp) {
        for (group, members) in groupSites where members.contains(site) {
            let writable = members.filter { name in sites[name]?.checks.contains { $0.database?.writable == true } == true }
            let running = groupStatuses.first { $0.name == group }?.run != nil
            guard writable.count >= 2, !running else {
                if writable.count < 2, splitGroups.remove(group) != nil { recordSplitBrainEnded(group, at: at) }
                continue
            }
            guard !splitGroups.contains(group) else { continue }
            splitGroups.insert(group)
            let message =
                "split brain in group \(group): sites \(writable.joined(separator: " and ")) all run a writable PostgreSQL primary; fence the one that is not the group's primary"
            logger.critical("\(message)", metadata: ["group": "\(group)"])
            var details: [String: JSONValue] = ["message": .string(message), "sites": .array(writable.map(JSONValue.string))]
            if anotherLeads { details["alert"] = .bool(false) }
            append(Event(at: at, controller: controllerID, group: group, kind: .splitBrain, details: .object(details)))
        }
    }

    /// Records that a group's split brain ended.
    private func recordSplitBrainEnded(_ group: String, at: Timestamp) {
        let message = "split brain in group \(group) ended: at most one site runs a writable PostgreSQL primary"
        logger.notice("\(message)", metadata: ["group": "\(group)"])
        var details: [String: JSONValue] = ["message": .string(message)]
        if anotherLeads { details["alert"] = .bool(false) }
        append(Event(at: at, controller: controllerID, group: group, kind: .splitBrainEnded, details: .object(details)))
    }
}
