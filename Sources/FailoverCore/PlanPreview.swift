/// The exact plan a failover or drill would run, resolved but not run (`--dry-run`).
public struct PlanPreview: Sendable, Equatable, Codable {
    /// The group.
    public var group: String
    /// Why it would run.
    public var kind: RunKind
    /// The old primary.
    public var from: String
    /// The target.
    public var to: String
    /// The epoch it would run at.
    public var epoch: Int
    /// The pre hook that would be asked first (not run by a preview).
    public var hook: String?
    /// The resolved steps, in order.
    public var steps: [PreviewStep]
    /// The run that follows (a drill's failback), if any.
    public var then: [PlanPreview]

    enum CodingKeys: String, CodingKey { case group, kind, from, to, epoch, hook, steps, then }
}

/// One resolved step of a preview.
public struct PreviewStep: Sendable, Equatable, Codable {
    /// Position (from 1).
    public var number: Int
    /// The step kind.
    public var kind: StepKind
    /// The site it acts on.
    public var site: String?
    /// What it runs, safe to print.
    public var action: String
    /// Timeout of one attempt, in milliseconds.
    public var timeoutMs: Int64
    /// Attempts after the first.
    public var retries: Int
    /// What a failure does.
    public var onFailure: FailurePolicy

    enum CodingKeys: String, CodingKey {
        case number, kind, site, action, retries
        case timeoutMs = "timeout_ms", onFailure = "on_failure"
    }
}

extension GroupFSM {
    /// What `command` would run on `snapshot`, judged exactly as `handle` would judge it,
    /// on a copy: nothing changes and no hook runs.
    public func preview(_ command: GroupCommand, snapshot: WorldSnapshot, sites: [SiteConfig]) throws(GroupRefusal)
        -> PlanPreview
    {
        switch command {
        case .failover, .drill: return try previewRun(command, snapshot: snapshot, sites: sites)
        case .pause, .resume: throw GroupRefusal("only failover and drill have a plan to preview")
        }
    }

    private func previewRun(_ command: GroupCommand, snapshot: WorldSnapshot, sites: [SiteConfig]) throws(GroupRefusal)
        -> PlanPreview
    {
        var copy = self
        _ = try copy.handle(command, snapshot: snapshot)
        guard let run = copy.state.run else { throw GroupRefusal("nothing would run") }
        var preview = plan(run.kind, from: run.from, to: run.to, epoch: run.epoch, sites: sites)
        if run.thenFailback {
            preview.then = [plan(.drill, from: run.to, to: run.from, epoch: run.epoch + 1, sites: sites)]
        }
        return preview
    }

    private func plan(_ kind: RunKind, from: String, to: String, epoch: Int, sites: [SiteConfig]) -> PlanPreview {
        let steps = Plan.resolve(config, sites: sites, from: from, to: to).map { step in
            PreviewStep(
                number: step.index + 1, kind: step.kind, site: step.site, action: step.summary,
                timeoutMs: step.timeout.milliseconds, retries: step.retries, onFailure: step.onFailure)
        }
        let hook = config.preHook.isEmpty ? nil : config.preHook.map(ShellQuote.word).joined(separator: " ")
        return PlanPreview(group: config.name, kind: kind, from: from, to: to, epoch: epoch, hook: hook, steps: steps, then: [])
    }
}
