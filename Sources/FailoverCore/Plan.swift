/// What a resolved step will do.
public enum ResolvedAction: Sendable, Equatable {
    /// Run a plugin with these options.
    case plugin(ActionSpec)
    /// Probe the target's checks until a round passes.
    case verify(site: String)
    /// Nothing: an optional step whose site has no action for it.
    case skip(reason: String)
    /// Cannot run (a required action is missing): the step fails.
    case unavailable(reason: String)
}

/// One plan step bound to a failover: which site, which plugin, which limits.
public struct ResolvedStep: Sendable, Equatable {
    /// Position in the plan (from 0).
    public var index: Int
    /// The step kind.
    public var kind: StepKind
    /// The site whose action runs (nil for `exec` steps).
    public var site: String?
    /// What runs.
    public var action: ResolvedAction
    /// Timeout of one attempt.
    public var timeout: Duration
    /// Attempts after the first.
    public var retries: Int
    /// What a failed step does to the plan.
    public var onFailure: FailurePolicy
    /// For `promote`: the old primary's action of the same plugin (its `fence`, else its
    /// `promote`), so the plugin can read the old primary's identity and last position.
    public var peer: ActionSpec?

    /// Creates a resolved step.
    public init(
        index: Int, kind: StepKind, site: String?, action: ResolvedAction, timeout: Duration, retries: Int,
        onFailure: FailurePolicy
    ) {
        self.index = index
        self.kind = kind
        self.site = site
        self.action = action
        self.timeout = timeout
        self.retries = retries
        self.onFailure = onFailure
    }

    /// `drain east: exec /usr/local/bin/drain east` style text, safe to print.
    public var summary: String {
        let what: String
        switch action {
        case .plugin(let spec): what = spec.summary
        case .verify(let site): what = "probe \(site)'s checks until a round passes"
        case .skip(let reason): what = "skipped (\(reason))"
        case .unavailable(let reason): what = "cannot run (\(reason))"
        }
        return "\(kind.rawValue)\(site.map { " \($0)" } ?? ""): \(what)"
    }
}

/// Binding a group's configured plan to one failover.
public enum Plan {
    /// The plan of `group` for a failover from `from` to `to`: drain and fence use the old
    /// primary's actions, promote, dns and verify the target's, exec its own command.
    public static func resolve(_ group: GroupConfig, sites: [SiteConfig], from: String, to: String) -> [ResolvedStep] {
        group.plan.enumerated().map { index, step in
            resolve(step, index: index, sites: sites, from: from, to: to)
        }
    }

    static func resolve(_ step: PlanStep, index: Int, sites: [SiteConfig], from: String, to: String) -> ResolvedStep {
        let site: String?
        let action: ResolvedAction
        var peer: ActionSpec?
        switch step.kind {
        case .exec:
            site = nil
            action = .plugin(.exec(command: step.command))
        case .verify:
            site = to
            action = .verify(site: to)
        case .rejoin:
            site = from
            (action, peer) = rejoin(step, sites: sites, from: from, to: to)
        case .drain, .fence, .promote, .ready, .dns:
            let name = step.kind.actsOnOldPrimary ? from : to
            site = name
            if let spec = sites.first(where: { $0.name == name })?.actions[step.kind] {
                action = .plugin(spec)
                if step.kind == .promote, let old = sites.first(where: { $0.name == from }) {
                    peer = [old.actions[.fence], old.actions[.promote]].compactMap { $0 }
                        .first { $0.plugin == spec.plugin }
                }
            } else {
                let reason = "site \(name) has no \(step.kind.rawValue) action"
                action = step.optional ? .skip(reason: reason) : .unavailable(reason: reason)
            }
        }
        var resolved = ResolvedStep(
            index: index, kind: step.kind, site: site, action: action, timeout: step.timeout, retries: step.retries,
            onFailure: step.onFailure)
        resolved.peer = peer
        return resolved
    }

    /// A `rejoin` step: the old primary's `postgres` action that has a `host`, with the
    /// target's `postgres` action as the source to follow.
    public static func rejoin(_ step: PlanStep, sites: [SiteConfig], from: String, to: String)
        -> (ResolvedAction, ActionSpec?)
    {
        let withHost = sites.first { $0.name == from }?.hostedDatabaseAction
        let source = sites.first { $0.name == to }?.databaseAction
        guard let withHost, let source else {
            let reason =
                withHost == nil
                ? "site \(from) has no postgres action with a host block" : "site \(to) has no postgres action to follow"
            return (step.optional ? .skip(reason: reason) : .unavailable(reason: reason), nil)
        }
        return (.plugin(withHost), source)
    }
}

extension SiteConfig {
    /// The site's `postgres` action (its `promote`, else its `fence`): how its database is
    /// reached, nil when the site drives no database.
    public var databaseAction: ActionSpec? {
        [actions[.promote], actions[.fence]].compactMap { $0 }.first { $0.plugin == "postgres" }
    }

    /// The site's `postgres` action that has a `host` block (its `fence`, else its
    /// `promote`): what a `rejoin` of this site runs.
    public var hostedDatabaseAction: ActionSpec? {
        [actions[.fence], actions[.promote]].compactMap { $0 }.first { spec in
            if case .postgres(let options) = spec { return options.host != nil }
            return false
        }
    }
}
