import FailoverCore
import Foundation
import Yams

extension ConfigLoader {
    /// `groups:` of the controller file; none for a monitor-only controller.
    func loadGroups(_ root: YAMLReader) throws -> [LoadedGroup] {
        guard let nodes = try root.sequence("groups") else { return [] }
        var groups: [LoadedGroup] = []
        for (index, node) in nodes.enumerated() {
            let reader = try YAMLReader(
                node: node, file: root.file, path: "groups[\(index)]", interpolator: root.interpolator)
            let group = try GroupLoader(reader: reader).load()
            let name = group.config.name
            if let other = groups.firstIndex(where: { $0.config.name == name }) {
                throw reader.error("name", "duplicate group name \"\(name)\" (also groups[\(other)])")
            }
            groups.append(group)
        }
        return groups
    }

    /// The checks that need every site loaded: each group names configured sites, and every
    /// site of a group has the actions its plan uses (any site can be the old primary or the
    /// target), unless the step is `optional`.
    func checkReferences(_ groups: [LoadedGroup], sites: [SiteConfig]) throws {
        let known = sites.map(\.name).sorted().joined(separator: ", ")
        for group in groups {
            let standbys = zip(group.config.standbys.map(\.site), group.places.standbys)
            for (name, place) in [(group.config.primary, group.places.primary)] + standbys
            where !sites.contains(where: { $0.name == name }) {
                throw place.saying("no site named \"\(name)\" (sites: \(known))")
            }
            try checkActions(group, sites: sites)
        }
    }

    private func checkActions(_ group: LoadedGroup, sites: [SiteConfig]) throws {
        for (step, place) in zip(group.config.plan, group.places.plan) where step.kind == .rejoin && !step.optional {
            for name in group.config.sites {
                guard let site = sites.first(where: { $0.name == name }), site.hostedDatabaseAction == nil else { continue }
                throw place.saying(
                    "step rejoin needs a postgres fence or promote action with a host block on site \(name) (\(site.sourcePath)): rejoin stops, rewinds and starts its server there")
            }
        }
        for (step, place) in zip(group.config.plan, group.places.plan)
        where StepKind.siteActionKinds.contains(step.kind) && !step.optional {
            for name in group.config.sites {
                guard let site = sites.first(where: { $0.name == name }), site.actions[step.kind] == nil else {
                    continue
                }
                let kind = step.kind.rawValue
                throw place.saying(
                    "step \(kind) needs actions.\(kind) on site \(name) (\(site.sourcePath)), "
                        + "or mark the step optional: true")
            }
        }
    }
}
