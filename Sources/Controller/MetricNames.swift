import Prometheus

/// Every metric's name, unit and help text in one place (docs/metrics.md mirrors this list).
/// Computed, because `MetricNameDescriptor` is not `Sendable`; they are read only when series
/// are created (start-up, a failover, a scrape).
///
/// Names follow Prometheus conventions: the `failoverctl_` namespace, base units in the name
/// (`_seconds`, `_bytes`), `_total` only on counters; one-hot gauges carry the state as a
/// label so alert rules can match it (`failoverctl_site_verdict{verdict="down"} == 1`).
enum Names {
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "failoverctl", metricName: metric, unitName: unit, helpText: help)
    }

    /// A unitless gauge.
    private static func name(_ metric: String, help: String) -> MetricNameDescriptor {
        name(metric, "", help)
    }

    // Recorded at the event.
    static var probeDuration: MetricNameDescriptor {
        name(
            "probe_duration", "seconds",
            "How long each probe of a check took (failed probes included, up to their timeout).")
    }
    static var probeTotal: MetricNameDescriptor {
        name(
            "probe", "total",
            "Probes of a check by result: ok, fail, or inconclusive (this controller could not run it).")
    }
    static var failoversTotal: MetricNameDescriptor {
        name(
            "failovers", "total",
            "Failovers, drills, failbacks and manual switchovers this controller completed, by kind.")
    }
    static var lastRTO: MetricNameDescriptor {
        name(
            "last_rto", "seconds",
            "Measured recovery time of the group's last completed failover (first failed probe to verified).")
    }
    static var lastRPOBytes: MetricNameDescriptor {
        name("last_rpo", "bytes", "Replication lag of the replica promoted by the group's last failover, in bytes.")
    }
    static var lastRPOSeconds: MetricNameDescriptor {
        name("last_rpo", "seconds", "Replication lag of the replica promoted by the group's last failover, in seconds.")
    }

    // Derived from the status report at scrape time.
    static var startTime: MetricNameDescriptor {
        name("controller_start_time", "seconds", "When this controller started (Unix time).")
    }
    static var siteUp: MetricNameDescriptor {
        name("site_up", help: "1 when the quorum verdict of the site is up, else 0.")
    }
    static var siteVerdict: MetricNameDescriptor {
        name("site_verdict", help: "The quorum verdict of the site: 1 for the current verdict, 0 for the others.")
    }
    static var siteState: MetricNameDescriptor {
        name(
            "site_state",
            help: "This controller's own debounced state of the site: 1 for the current state, 0 for the others.")
    }
    static var groupEpoch: MetricNameDescriptor {
        name("group_epoch", help: "The group's epoch: the failover counter and fencing token.")
    }
    static var groupPrimary: MetricNameDescriptor {
        name("group_primary", help: "1 for the group's current primary site, 0 for its standbys.")
    }
    static var groupState: MetricNameDescriptor {
        name(
            "group_state",
            help:
                "Where the group is (steady, returning, paused, awaiting_hook, running, suspended, stuck): 1 for the current state."
        )
    }
    static var groupHeld: MetricNameDescriptor {
        name(
            "group_failover_held",
            help: "1 while an automatic failover of the group's down primary is held back (see /status for why).")
    }
    static var rtoTarget: MetricNameDescriptor {
        name("group_rto_target", "seconds", "The group's configured RTO target.")
    }
    static var quorate: MetricNameDescriptor {
        name("coordination_quorate", help: "1 when this controller sees a quorum of coordination members, else 0.")
    }
    static var leader: MetricNameDescriptor {
        name("coordination_leader", help: "1 when this controller holds the leadership (may act), else 0.")
    }
    static var hasLeader: MetricNameDescriptor {
        name("coordination_leader_known", help: "1 when this controller knows of a leader (itself or another), else 0.")
    }
    static var members: MetricNameDescriptor {
        name("coordination_members", help: "Configured voting members.")
    }
    static var membersAlive: MetricNameDescriptor {
        name("coordination_members_alive", help: "Voting members whose lease is alive, as this controller sees them.")
    }
    static var memberAlive: MetricNameDescriptor {
        name("coordination_member_alive", help: "1 when the member's lease is alive, as this controller sees it.")
    }
    static var votesNeeded: MetricNameDescriptor {
        name("coordination_votes_needed", help: "Votes needed for a quorum verdict.")
    }
    static var outboxPending: MetricNameDescriptor {
        name("alert_outbox_pending", help: "Alerts queued in the outbox and not delivered yet.")
    }
    static var outboxFailed: MetricNameDescriptor {
        name("alert_outbox_failed", help: "Alerts given up on after a permanent delivery error (kept in the outbox).")
    }
    static var outboxOldest: MetricNameDescriptor {
        name(
            "alert_outbox_oldest_pending_age", "seconds",
            "How long the oldest undelivered alert has waited (0 when none waits).")
    }
}
