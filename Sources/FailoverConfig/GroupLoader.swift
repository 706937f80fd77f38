import FailoverCore
import Foundation
import Yams

/// Where a group names sites and steps in the controller file, so that the checks that need
/// every site file (`ConfigLoader.checkReferences`) can point at the right line.
struct GroupPlaces {
    /// `groups[i].primary`.
    var primary: ConfigError
    /// `groups[i].standbys[j]`, one per standby.
    var standbys: [ConfigError]
    /// `groups[i].plan[j]`, one per step.
    var plan: [ConfigError]
}

/// A group as read from the controller file, before its sites are checked.
struct LoadedGroup {
    /// The group.
    var config: GroupConfig
    /// Where its references are written.
    var places: GroupPlaces
}

/// Reads one entry of `groups:` in the controller file.
struct GroupLoader {
    let reader: YAMLReader

    static let groupKeys: Set<String> = [
        "name", "primary", "standbys", "failover", "failback", "failback_after", "cooldown", "max_lag", "rto", "rpo",
        "hooks", "plan",
    ]

    func load() throws -> LoadedGroup {
        try reader.rejectUnknown(Self.groupKeys)
        guard let name = try reader.name("name") else { throw reader.error("name", "is required") }
        guard let primary = try reader.nonEmptyString("primary") else {
            throw reader.error("primary", "is required (the site that starts as the group's primary)")
        }
        let (standbys, standbyPlaces) = try loadStandbys(primary: primary)
        var group = GroupConfig(name: name, primary: primary, standbys: standbys, plan: [], sourcePath: reader.file)
        try loadPolicy(&group)
        try loadHooks(&group)
        let (plan, planPlaces) = try PlanLoader(group: reader).load()
        group.plan = plan
        let places = GroupPlaces(primary: reader.error("primary", ""), standbys: standbyPlaces, plan: planPlaces)
        return LoadedGroup(config: group, places: places)
    }

    /// `standbys:` in priority order; each a site name or `{site: NAME, priority: N}`.
    private func loadStandbys(primary: String) throws -> ([Standby], [ConfigError]) {
        guard let nodes = try reader.sequence("standbys"), !nodes.isEmpty else {
            throw reader.error("standbys", "a group needs at least one standby site")
        }
        var standbys: [Standby] = []
        var places: [ConfigError] = []
        for (index, node) in nodes.enumerated() {
            let key = "standbys[\(index)]"
            let standby = try loadStandby(node, key: key, position: index + 1)
            let place = reader.error(key, "", node: node)
            guard standby.site != primary else {
                throw place.saying("site \(primary) is the group's primary; it cannot also be a standby")
            }
            guard !standbys.contains(where: { $0.site == standby.site }) else {
                throw place.saying("site \(standby.site) appears twice in the group")
            }
            standbys.append(standby)
            places.append(place)
        }
        return (standbys, places)
    }

    /// One standby; a plain name's priority is its position (1, 2, …).
    private func loadStandby(_ node: Node, key: String, position: Int) throws -> Standby {
        guard node.mapping != nil else {
            let site = try reader.scalarText(node, key: key)
            guard !site.isEmpty else { throw reader.error(key, "must not be empty", node: node) }
            return Standby(site: site, priority: position)
        }
        let r = try YAMLReader(
            node: node, file: reader.file, path: reader.keyPath(key), interpolator: reader.interpolator)
        try r.rejectUnknown(["priority", "site"])
        guard let site = try r.nonEmptyString("site") else { throw r.error("site", "is required") }
        return Standby(site: site, priority: try r.int("priority", range: 1...1000) ?? position)
    }

    /// Failover and failback modes, timers, lag limit and tier targets.
    private func loadPolicy(_ group: inout GroupConfig) throws {
        group.failover = try reader.choice("failover") ?? group.failover
        group.failback = try reader.choice("failback") ?? group.failback
        // Kept with failback: manual too, so switching failback on needs no other edit.
        group.failbackAfter = try reader.duration("failback_after") ?? group.failbackAfter
        group.cooldown = try reader.duration("cooldown") ?? group.cooldown
        group.maxLagBytes = try reader.byteSize("max_lag")
        group.rto = try reader.duration("rto")
        group.rpo = try reader.duration("rpo")
    }

    /// `hooks:` — the command run before every failover (a veto) and its timeout.
    private func loadHooks(_ group: inout GroupConfig) throws {
        guard let hooks = try reader.object("hooks") else { return }
        try hooks.rejectUnknown(["pre", "timeout"])
        guard let pre = try hooks.command("pre") else {
            throw reader.error("hooks", "needs pre: the command (argv) run before every failover")
        }
        group.preHook = pre
        group.hookTimeout = try hooks.duration("timeout") ?? group.hookTimeout
    }
}
