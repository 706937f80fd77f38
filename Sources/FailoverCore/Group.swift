/// The kinds of plan step. `drain` and `fence` use the failed (old) primary's actions;
/// `promote`, `ready` (back into the load balancer), `dns` and `verify` the target's; `exec`
/// runs the command written on the step; `rejoin` (after `verify`, outside the RTO) turns
/// the old primary's database into a streaming replica of the new one, through the old
/// primary's `postgres` action and its `host`.
public enum StepKind: String, Sendable, Equatable, CaseIterable, Codable {
    case drain
    case fence
    case promote
    case ready
    case dns
    case verify
    case rejoin
    case exec

    /// Whether the step acts on the site being failed away from (else on the target).
    public var actsOnOldPrimary: Bool { self == .drain || self == .fence || self == .rejoin }

    /// Step kinds that a site's `actions:` map configures.
    public static let siteActionKinds: [StepKind] = [.drain, .fence, .promote, .ready, .dns]
}

/// What a step does when it has failed every attempt.
public enum FailurePolicy: String, Sendable, Equatable, CaseIterable, Codable {
    /// Stop the plan: the group is stuck and needs a human.
    case abort
    /// Record the failure and go on with the next step.
    case `continue`
}

/// Which plugin performs a site's step, with its options: `exec` runs a local command; the
/// others talk to a load balancer or DNS provider (options in `ActionOptions.swift`).
public enum ActionSpec: Sendable, Equatable {
    /// Runs `command` (argv, no shell) with the `FAILOVER_*` environment.
    case exec(command: [String])
    /// Sets HAProxy servers' administrative state through the runtime API.
    case haproxy(HAProxyOptions)
    /// Replaces a PowerDNS rrset through its HTTP API.
    case powerdns(PowerDNSOptions)
    /// Patches a Cloudflare DNS record and/or a load-balancer pool origin.
    case cloudflare(CloudflareOptions)
    /// Promotes (`pg_promote`) or fences (read-only) a PostgreSQL server through libpq.
    case postgres(PostgresOptions)
    /// UPSERTs a Route 53 record set and waits until the change is `INSYNC`.
    case route53(Route53Options)
    /// Deregisters or registers targets of an AWS ELBv2 target group.
    case elbv2(ELBv2Options)

    /// The plugin's name as written in the config.
    public var plugin: String {
        switch self {
        case .exec: "exec"
        case .haproxy: "haproxy"
        case .powerdns: "powerdns"
        case .cloudflare: "cloudflare"
        case .postgres: "postgres"
        case .route53: "route53"
        case .elbv2: "elbv2"
        }
    }

    /// A one-line description safe to show: never a token, key or URL credential.
    public var summary: String {
        switch self {
        case .exec(let command): "exec " + command.map(ShellQuote.word).joined(separator: " ")
        case .haproxy(let o): "haproxy \(o.servers.map { "\(o.backend)/\($0)" }.joined(separator: ", ")) via \(o.admin)"
        case .powerdns(let o): "powerdns \(o.name) \(o.type.rawValue) \(o.content) at \(Redaction.url(o.api))"
        case .cloudflare(let o): "cloudflare " + Self.parts(o).joined(separator: ", ")
        case .postgres(let o): "postgres \(PostgresDSN.redacted(o.dsn))"
        case .route53(let o):
            "route53 \(o.name) \(o.type.rawValue) \(o.values.joined(separator: ",")) in zone \(o.zoneID) at \(Redaction.url(o.endpoint))"
        case .elbv2(let o):
            "elbv2 \(o.targets.map(\.description).joined(separator: ", ")) in \(o.targetGroupARN) at \(Redaction.url(o.resolvedEndpoint))"
        }
    }

    /// The secret values the options hold (API keys, tokens), for scrubbing text that may
    /// quote one; empty for plugins without secrets.
    public var secrets: [String] {
        switch self {
        case .exec, .haproxy: []
        case .powerdns(let o): [o.key] + Redaction.secrets(inURL: o.api)
        case .cloudflare(let o): [o.token] + Redaction.secrets(inURL: o.api)
        case .postgres(let o): PostgresDSN.secrets(o.dsn)
        // Credentials come from the AWS_* environment at action time, never from options.
        case .route53(let o): Redaction.secrets(inURL: o.endpoint)
        case .elbv2(let o): Redaction.secrets(inURL: o.resolvedEndpoint)
        }
    }

    private static func parts(_ o: CloudflareOptions) -> [String] {
        var parts: [String] = []
        if let r = o.record { parts.append("\(r.name) \(r.type.rawValue) \(r.content)") }
        if let p = o.pool { parts.append("pool \(p.poolID) origin \(p.origin) \(p.enabled ? "enabled" : "disabled")") }
        return parts
    }
}

/// One step of a group's plan, as configured.
public struct PlanStep: Sendable, Equatable {
    /// What the step does.
    public var kind: StepKind
    /// For `exec` steps: the command (argv).
    public var command: [String]
    /// How long one attempt may take.
    public var timeout: Duration
    /// Attempts after the first one failed.
    public var retries: Int
    /// What a step that failed every attempt does to the plan.
    public var onFailure: FailurePolicy
    /// Skip (instead of a config error) when the site has no action for this step.
    public var optional: Bool

    /// Creates a step with the documented defaults (`on_failure: abort`, except `rejoin`,
    /// which comes after the service is restored and so continues).
    public init(
        kind: StepKind, command: [String] = [], timeout: Duration? = nil, retries: Int = 2,
        onFailure: FailurePolicy? = nil, optional: Bool = false
    ) {
        self.kind = kind
        self.command = command
        self.timeout = timeout ?? Self.defaultTimeout(kind)
        self.retries = retries
        self.onFailure = onFailure ?? (kind == .rejoin ? .continue : .abort)
        self.optional = optional
    }

    /// The default attempt timeout of a step kind: a rejoin (pg_rewind) may take longest,
    /// then verification.
    public static func defaultTimeout(_ kind: StepKind) -> Duration {
        switch kind {
        case .rejoin: .seconds(300)
        case .verify: .seconds(60)
        default: .seconds(30)
        }
    }
}

/// Whether a group fails over by itself.
public enum FailoverMode: String, Sendable, Equatable, CaseIterable, Codable {
    /// Fail over as soon as the quorum says the primary is down.
    case automatic
    /// Alert and wait for `failoverctl failover`.
    case manual
}

/// One standby of a group and its priority (lower is preferred).
public struct Standby: Sendable, Equatable {
    /// The site.
    public var site: String
    /// Election priority; standbys with equal priority are ordered by lag, then latency.
    public var priority: Int

    /// Creates a standby.
    public init(site: String, priority: Int) {
        self.site = site
        self.priority = priority
    }
}

/// A failover group: one service, its sites in priority order, policy and plan.
public struct GroupConfig: Sendable, Equatable {
    /// Unique group name.
    public var name: String
    /// The initial (and preferred) primary site.
    public var primary: String
    /// The standbys, in priority order.
    public var standbys: [Standby]
    /// Automatic or manual failover.
    public var failover: FailoverMode
    /// Automatic or manual failback to `primary`.
    public var failback: FailoverMode
    /// How long `primary` must be up before an automatic failback.
    public var failbackAfter: Duration
    /// At most one automatic failover per this window.
    public var cooldown: Duration
    /// Standbys lagging more bytes than this are not eligible (unless forced).
    public var maxLagBytes: Int64?
    /// Recovery time objective the report grades against.
    public var rto: Duration?
    /// Recovery point objective the report grades against.
    public var rpo: Duration?
    /// A command run before every failover; a non-zero exit vetoes it.
    public var preHook: [String]
    /// How long the pre hook may take; one that does not finish vetoes.
    public var hookTimeout: Duration
    /// The ordered steps of one failover.
    public var plan: [PlanStep]
    /// Whether the plan promotes a database (a site's `promote` is a `postgres` action):
    /// then a drill may return (`--failback`) only through a `rejoin` step, since the old
    /// primary is no replica of the new one until it is rejoined.
    public var promotesDatabase = false
    /// The file this came from, for messages.
    public var sourcePath: String

    /// Creates a group with the documented defaults.
    public init(
        name: String, primary: String, standbys: [Standby], failover: FailoverMode = .automatic,
        failback: FailoverMode = .manual, failbackAfter: Duration = .seconds(600), cooldown: Duration = .seconds(600),
        maxLagBytes: Int64? = nil, rto: Duration? = nil, rpo: Duration? = nil, preHook: [String] = [],
        hookTimeout: Duration = .seconds(10), plan: [PlanStep], sourcePath: String = "<memory>"
    ) {
        self.name = name
        self.primary = primary
        self.standbys = standbys
        self.failover = failover
        self.failback = failback
        self.failbackAfter = failbackAfter
        self.cooldown = cooldown
        self.maxLagBytes = maxLagBytes
        self.rto = rto
        self.rpo = rpo
        self.preHook = preHook
        self.hookTimeout = hookTimeout
        self.plan = plan
        self.sourcePath = sourcePath
    }

    /// Every site of the group: the configured primary first, then the standbys.
    public var sites: [String] { [primary] + standbys.map(\.site) }

    /// The election priority of `site`: the configured primary is 0, standbys their own.
    public func priority(of site: String) -> Int? {
        site == primary ? 0 : standbys.first { $0.site == site }?.priority
    }

    /// The index of the first `verify` step, if the plan has one.
    public var verifyIndex: Int? { plan.firstIndex { $0.kind == .verify } }
}

/// Quoting for showing a command as one shell-like line.
public enum ShellQuote {
    /// `word` as the shell would need it: bare when safe, else in single quotes.
    public static func word(_ word: String) -> String {
        let safe = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }
        return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
