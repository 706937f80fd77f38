import FailoverCore
import Prometheus

/// The state gauges of one status report, built into a registry of their own at scrape
/// time and dropped after it: a state that is gone (an old primary, a past verdict) is a
/// 0 of a one-hot gauge, never a stale series.
struct ReportGauges {
    let report: StatusReport
    let rtoTargets: [(group: String, target: Duration)]

    /// Every phase a group can be in (`GroupFSM.phase`), so each one-hot gauge has all of them.
    static let groupStates = ["steady", "returning", "paused", "awaiting_hook", "running", "suspended", "stuck"]

    /// A fresh registry holding this report's gauges.
    func registry() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        if let started = report.startedAt {
            registry.makeGauge(descriptor: Names.startTime, labels: []).set(Double(started.milliseconds) / 1_000)
        }
        addSites(to: registry)
        addGroups(to: registry)
        addCoordination(to: registry)
        addAlerts(to: registry)
        return registry
    }

    private func addSites(to registry: PrometheusCollectorRegistry) {
        for site in report.sites {
            let labels = [("site", site.name)]
            registry.makeGauge(descriptor: Names.siteUp, labels: labels).set(flag(site.quorum.verdict == .up))
            for verdict in Verdict.allCases {
                registry.makeGauge(descriptor: Names.siteVerdict, labels: labels + [("verdict", verdict.rawValue)])
                    .set(flag(site.quorum.verdict == verdict))
            }
            for state in SiteFSM.State.allCases {
                registry.makeGauge(descriptor: Names.siteState, labels: labels + [("state", state.rawValue)])
                    .set(flag(site.state == state))
            }
        }
    }

    private func addGroups(to registry: PrometheusCollectorRegistry) {
        for group in report.groups {
            let labels = [("group", group.name)]
            registry.makeGauge(descriptor: Names.groupEpoch, labels: labels).set(Double(group.epoch))
            for site in group.sites {
                registry.makeGauge(descriptor: Names.groupPrimary, labels: labels + [("site", site)])
                    .set(flag(group.primary == site))
            }
            let states = Self.groupStates.contains(group.phase) ? Self.groupStates : Self.groupStates + [group.phase]
            for state in states {
                registry.makeGauge(descriptor: Names.groupState, labels: labels + [("state", state)])
                    .set(flag(group.phase == state))
            }
            registry.makeGauge(descriptor: Names.groupHeld, labels: labels).set(flag(group.hold != nil))
        }
        for (group, target) in rtoTargets {
            registry.makeGauge(descriptor: Names.rtoTarget, labels: [("group", group)])
                .set(Double(target.milliseconds) / 1_000)
        }
    }

    private func addCoordination(to registry: PrometheusCollectorRegistry) {
        let coordination = report.coordination
        registry.makeGauge(descriptor: Names.quorate, labels: []).set(flag(coordination.quorate))
        registry.makeGauge(descriptor: Names.leader, labels: [("controller", report.controller)])
            .set(flag(coordination.leader == report.controller))
        registry.makeGauge(descriptor: Names.hasLeader, labels: []).set(flag(coordination.leader != nil))
        registry.makeGauge(descriptor: Names.members, labels: []).set(Double(coordination.members.count))
        let alive = coordination.memberStates.filter(\.alive)
        registry.makeGauge(descriptor: Names.membersAlive, labels: []).set(Double(alive.count))
        for member in coordination.memberStates {
            registry.makeGauge(descriptor: Names.memberAlive, labels: [("member", member.id)]).set(flag(member.alive))
        }
        registry.makeGauge(descriptor: Names.votesNeeded, labels: []).set(Double(coordination.needed))
    }

    /// The outbox; without alert sinks nothing is ever queued, so its figures are zero.
    private func addAlerts(to registry: PrometheusCollectorRegistry) {
        let alerts = report.alerts ?? AlertQueueStatus(pending: 0, failed: 0, oldestPendingAt: nil, problems: [])
        registry.makeGauge(descriptor: Names.outboxPending, labels: []).set(Double(alerts.pending))
        registry.makeGauge(descriptor: Names.outboxFailed, labels: []).set(Double(alerts.failed))
        let age = alerts.oldestPendingAt.map { max(Double(report.generatedAt.since($0).milliseconds), 0) / 1_000 } ?? 0
        registry.makeGauge(descriptor: Names.outboxOldest, labels: []).set(age)
    }

    private func flag(_ condition: Bool) -> Double { condition ? 1 : 0 }
}
