/// Which events alert, how urgently, and under which key (pure: one event in, alerts out).
///
/// | Event | Alert | Action, severity, key |
/// |---|---|---|
/// | quorum verdict ➜ down | `site_down` | trigger, error, `site:NAME` |
/// | quorum verdict down ➜ up | `site_up` | resolve, info, `site:NAME` |
/// | site ➜ down with an expiring certificate | `certificate_expiring` | trigger, warning, `cert:NAME` |
/// | `failover_needed` | `failover_needed` | trigger, critical, `group:NAME` |
/// | `failover_held` | `failover_held` | trigger, error, `group:NAME` |
/// | `failover_vetoed` | `failover_vetoed` | trigger, warning, `group:NAME` |
/// | `no_eligible_target` | `no_eligible_target` | trigger, critical, `group:NAME` |
/// | `failover_started` | `failover_started` | trigger, warning (drill: info), incident id |
/// | `step_finished` failed | `step_failed` | trigger, error, incident id |
/// | `failover_stuck` | `failover_failed` | trigger, critical, incident id |
/// | `failover_succeeded` | `failover_succeeded` (drill: `drill_finished`) | resolve, info, incident id |
/// | `quorum_lost` / `quorum_regained` | `quorum_lost` / `quorum_regained` | trigger critical / resolve, `quorum:CONTROLLER` |
/// | `controller_lost` | `controller_lost` | trigger, error, `controller:NAME` |
/// | `split_brain` / `split_brain_ended` | `split_brain` / `split_brain_ended` | trigger critical / resolve, `split-brain:GROUP` |
public enum AlertRules {
    /// The alerts `event` (already stored, so with its id) gives; usually none or one.
    public static func alerts(for event: Event) -> [Alert] {
        guard let id = event.id, let (kind, action, severity, key, runbook) = classify(event).map({ $0 }) else {
            return []
        }
        var details: [String: JSONValue] = [:]
        for name in ["incident", "kind", "from", "to", "error", "reason", "step_kind", "attempts", "measures", "candidates"] {
            if let value = event.details[name] { details[name] = value }
        }
        let message = event.details["message"]?.stringValue ?? event.kind.rawValue
        return [
            Alert(
                kind: kind, action: action, severity: severity, key: key, summary: String(message.prefix(1_024)),
                eventID: id, at: event.at, controller: event.controller, group: event.group, site: event.site,
                epoch: event.epoch, runbook: runbook, details: details)
        ]
    }

    private typealias Rule = (AlertKind, AlertAction, AlertSeverity, String, String?)

    private static func classify(_ event: Event) -> Rule? {
        // With several controllers, what every one of them records alerts only from the leader.
        if event.details["alert"] == .bool(false) { return nil }
        let site = event.site ?? "?"
        let group = "group:\(event.group ?? "?")"
        let incident = event.details["incident"]?.stringValue ?? group
        let drill = event.details["kind"]?.stringValue == RunKind.drill.rawValue
        switch event.kind {
        case .quorumVerdictChanged: return verdict(event, site: site)
        case .siteStateChanged: return certificate(event, site: site)
        case .failoverNeeded: return (.failoverNeeded, .trigger, .critical, group, "manual-failover.md")
        case .failoverHeld: return (.failoverHeld, .trigger, .error, group, "primary-down.md")
        case .failoverVetoed: return (.failoverVetoed, .trigger, .warning, group, "primary-down.md")
        case .noEligibleTarget: return (.noEligibleTarget, .trigger, .critical, group, "primary-down.md")
        case .failoverStarted:
            return (.failoverStarted, .trigger, drill ? .info : .warning, incident, drill ? "drill.md" : "primary-down.md")
        case .stepFinished where event.details["result"]?.stringValue == "failed":
            return (.stepFailed, .trigger, .error, incident, "failover-stuck.md")
        case .failoverStuck: return (.failoverFailed, .trigger, .critical, incident, "failover-stuck.md")
        case .failoverSucceeded:
            return (drill ? .drillFinished : .failoverSucceeded, .resolve, .info, incident, drill ? "drill.md" : nil)
        case .quorumLost: return (.quorumLost, .trigger, .critical, "quorum:\(event.controller)", "no-quorum.md")
        case .quorumRegained: return (.quorumRegained, .resolve, .info, "quorum:\(event.controller)", nil)
        case .controllerLost:
            return (.controllerLost, .trigger, .error, "controller:\(event.details["member"]?.stringValue ?? "?")", "no-quorum.md")
        case .splitBrain: return (.splitBrain, .trigger, .critical, "split-brain:\(event.group ?? "?")", "split-brain.md")
        case .splitBrainEnded: return (.splitBrainEnded, .resolve, .info, "split-brain:\(event.group ?? "?")", nil)
        default: return nil
        }
    }

    private static func verdict(_ event: Event, site: String) -> Rule? {
        let from = event.details["from"]?.stringValue
        switch event.details["to"]?.stringValue {
        case "down": return (.siteDown, .trigger, .error, "site:\(site)", "primary-down.md")
        case "up" where from == "down": return (.siteUp, .resolve, .info, "site:\(site)", nil)
        default: return nil
        }
    }

    private static func certificate(_ event: Event, site: String) -> Rule? {
        guard event.details["to"]?.stringValue == "down", case .array(let results) = event.details["results"] ?? .null,
            results.contains(where: { $0["diagnosis"]?.stringValue == "certificate_expiring" })
        else { return nil }
        return (.certificateExpiring, .trigger, .warning, "cert:\(site)", "certificate-expiring.md")
    }
}
