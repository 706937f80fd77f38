import Foundation

/// The whole configuration of one controller: `failoverctl.yaml` plus its site files.
public struct ControllerConfig: Sendable, Equatable {
    /// This controller's id (`controller.id`; default `$FAILOVERCTL_ID`, else the host name).
    public var id: String
    /// Where the status API listens.
    public var listen: ListenAddress
    /// Directory for the SQLite event log and other state.
    public var stateDir: String
    /// How controllers agree (the embedded `local` default: a quorum of one).
    public var coordination: CoordinationConfig
    /// The monitored sites, in file-name order.
    public var sites: [SiteConfig]
    /// The failover groups.
    public var groups: [GroupConfig]
    /// The bearer token that the API's `POST` endpoints require; without one they are refused.
    public var apiToken: String?
    /// Where alerts go.
    public var alerts: AlertConfig
    /// The file this was loaded from, for messages.
    public var sourcePath: String

    /// Creates a configuration.
    public init(
        id: String, listen: ListenAddress, stateDir: String, coordination: CoordinationConfig = .local,
        sites: [SiteConfig], groups: [GroupConfig] = [], apiToken: String? = nil, alerts: AlertConfig = AlertConfig(),
        sourcePath: String = "<memory>"
    ) {
        self.alerts = alerts
        self.id = id
        self.listen = listen
        self.stateDir = stateDir
        self.coordination = coordination
        self.sites = sites
        self.groups = groups
        self.apiToken = apiToken
        self.sourcePath = sourcePath
    }

    /// The site called `name`, if configured.
    public func site(named name: String) -> SiteConfig? { sites.first { $0.name == name } }

    /// The group called `name`, if configured.
    public func group(named name: String) -> GroupConfig? { groups.first { $0.name == name } }

    /// Every secret value the configuration holds (API token, header values, URL
    /// credentials), for scrubbing text that may quote one (command output, errors).
    public var secrets: [String] {
        var out = (apiToken.map { [$0] } ?? []) + alerts.secrets + sites.flatMap { $0.actions.values.flatMap(\.secrets) }
        for site in sites {
            for check in site.checks {
                if case .http(let h) = check.kind { out += Array(h.headers.values) + Redaction.secrets(inURL: h.url) }
            }
        }
        return out
    }
}

/// A `host:port` to listen on or connect to. IPv6 hosts are written `[::1]:7400`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// Host name or IP literal, without brackets.
    public var host: String
    /// TCP port.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`; nil when malformed or the port is out of range.
    public init?(text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (1...65_535).contains(port) else { return nil }
        self.init(host: String(host), port: port)
    }

    /// `host:port`, bracketing IPv6 literals.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// How controllers agree on verdicts and leadership.
public enum CoordinationConfig: Sendable, Equatable {
    /// One controller, quorum of one, state in SQLite.
    case local
    /// Several controllers sharing votes, leadership and group state through etcd.
    case etcd(EtcdConfig)

    /// `local` or `etcd`.
    public var backend: String {
        switch self {
        case .local: "local"
        case .etcd: "etcd"
        }
    }

    /// Who votes and how many decide; `id` alone with `local`.
    public func policy(me id: String) -> QuorumPolicy {
        switch self {
        case .local: .single(id)
        case .etcd(let etcd): QuorumPolicy(members: etcd.members, quorum: etcd.quorum)
        }
    }
}

/// `coordination:` with `backend: etcd`.
public struct EtcdConfig: Sendable, Equatable {
    /// Controller ids whose votes count.
    public var members: [String]
    /// Votes needed for a quorum verdict (a majority of `members` by default).
    public var quorum: Int
    /// Client URLs of the etcd members (`http://` or `https://`), tried in turn.
    public var endpoints: [String]
    /// The key prefix every failoverctl key lives under (no trailing `/`).
    public var prefix: String
    /// The TTL of each controller's lease: a silent controller's votes and leadership expire
    /// after it.
    public var leaseTTL: Duration
    /// How long one request to one endpoint may take before the next endpoint is tried.
    public var timeout: Duration
    /// How often a controller reads the shared votes and leadership.
    public var poll: Duration
    /// CA bundle that signs the etcd servers' certificates.
    public var caFile: String?
    /// Client certificate and key for etcd's client TLS authentication.
    public var certFile: String?
    /// The client certificate's key.
    public var keyFile: String?

    /// Creates an etcd configuration; `quorum` defaults to a majority of `members`.
    public init(
        members: [String], quorum: Int? = nil, endpoints: [String], prefix: String = "/failoverctl",
        leaseTTL: Duration = .seconds(5), timeout: Duration = .seconds(1), poll: Duration = .milliseconds(100),
        caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil
    ) {
        self.members = members
        self.quorum = quorum ?? (members.count / 2 + 1)
        self.endpoints = endpoints
        self.prefix = prefix
        self.leaseTTL = leaseTTL
        self.timeout = timeout
        self.poll = poll
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }
}

/// Whether a probe round needs every check (`all`) or one check (`any`) to pass.
public enum Requirement: String, Sendable, Equatable, CaseIterable, Codable {
    case all
    case any
}

/// One site: its probe schedule, debounce thresholds and checks.
public struct SiteConfig: Sendable, Equatable {
    /// Unique site name (e.g. `east`).
    public var name: String
    /// Free-form region label.
    public var region: String?
    /// Time between probe rounds.
    public var interval: Duration
    /// Default per-check timeout; must be below `interval`.
    public var timeout: Duration
    /// Consecutive failed rounds before the site is down.
    public var fall: Int
    /// Consecutive good rounds before the site is up again.
    public var rise: Int
    /// Which checks must pass for a round to pass.
    public var require: Requirement
    /// The probes of one round.
    public var checks: [CheckConfig]
    /// The plugin that performs each step kind for this site (`actions:`).
    public var actions: [StepKind: ActionSpec]
    /// The file this site came from.
    public var sourcePath: String

    /// Creates a site with the documented defaults.
    public init(
        name: String, region: String? = nil, interval: Duration = .seconds(1), timeout: Duration = .milliseconds(800),
        fall: Int = 3, rise: Int = 2, require: Requirement = .all, checks: [CheckConfig],
        actions: [StepKind: ActionSpec] = [:], sourcePath: String = "<memory>"
    ) {
        self.actions = actions
        self.name = name
        self.region = region
        self.interval = interval
        self.timeout = timeout
        self.fall = fall
        self.rise = rise
        self.require = require
        self.checks = checks
        self.sourcePath = sourcePath
    }

    /// The debounce thresholds of this site.
    public var thresholds: Thresholds { Thresholds(fall: fall, rise: rise) }
}

/// One probe of a site.
public struct CheckConfig: Sendable, Equatable {
    /// Unique (within the site) check name.
    public var name: String
    /// What to probe.
    public var kind: CheckKind
    /// Per-check timeout override; the site's `timeout` otherwise.
    public var timeout: Duration?

    /// Creates a check.
    public init(name: String, kind: CheckKind, timeout: Duration? = nil) {
        self.name = name
        self.kind = kind
        self.timeout = timeout
    }
}

/// What a check probes.
public enum CheckKind: Sendable, Equatable {
    /// ICMP echo to a host name or IP literal (v4 or v6).
    case ping(host: String)
    /// TCP connect to `host:port`.
    case tcp(ListenAddress)
    /// An HTTP or HTTPS request with expectations on the answer.
    case http(HTTPCheck)
    /// A PostgreSQL connection reading the server's role and replication lag.
    case postgres(PostgresCheck)

    /// The probe kind's name as written in the config.
    public var label: String {
        switch self {
        case .ping: "ping"
        case .tcp: "tcp"
        case .http(let h): h.url.hasPrefix("https:") ? "https" : "http"
        case .postgres: "postgres"
        }
    }

    /// The target as it may be shown in logs, events and status (secrets removed).
    public var redactedTarget: String {
        switch self {
        case .ping(let host): host
        case .tcp(let address): address.description
        case .http(let h): Redaction.url(h.url)
        case .postgres(let p): PostgresDSN.redacted(p.dsn)
        }
    }
}

/// An HTTP(S) check.
public struct HTTPCheck: Sendable, Equatable {
    /// Full URL including scheme.
    public var url: String
    /// Accepted status codes; nil means any 2xx.
    public var expectStatus: [Int]?
    /// A substring the body must contain.
    public var expectBody: String?
    /// CA bundle to verify the server certificate against (system store otherwise).
    public var caFile: String?
    /// Fail when the server certificate expires in fewer days than this.
    public var minCertDays: Int?
    /// Follow redirects (off by default: a redirect is an answer to judge).
    public var followRedirects: Bool
    /// Extra request headers; values are treated as secrets in output.
    public var headers: [String: String]

    /// Creates an HTTP check.
    public init(
        url: String, expectStatus: [Int]? = nil, expectBody: String? = nil, caFile: String? = nil,
        minCertDays: Int? = nil, followRedirects: Bool = false, headers: [String: String] = [:]
    ) {
        self.url = url
        self.expectStatus = expectStatus
        self.expectBody = expectBody
        self.caFile = caFile
        self.minCertDays = minCertDays
        self.followRedirects = followRedirects
        self.headers = headers
    }

    /// Whether `status` is an accepted answer.
    public func accepts(status: Int) -> Bool {
        if let expectStatus { return expectStatus.contains(status) }
        return (200..<300).contains(status)
    }
}
