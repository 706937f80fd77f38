/// Options of the `haproxy` plugin: one backend's servers, switched through HAProxy's
/// runtime API (`set server BACKEND/SERVER state ...`).
///
/// On `drain` and `fence` the servers go to `mode`; on `promote` and `dns` (the site is the
/// new target) they go back to `ready`. Names are checked by the loader to hold no
/// whitespace, `/` or `;`, so a name can never smuggle a second command into a line.
public struct HAProxyOptions: Sendable, Equatable {
    /// Where the runtime API (`stats socket ... level admin`) listens.
    public enum Admin: Sendable, Equatable, CustomStringConvertible {
        /// `tcp:HOST:PORT` (`stats socket ipv4@HOST:PORT`).
        case tcp(host: String, port: Int)
        /// `unix:/path` (`stats socket /path`).
        case unix(path: String)

        /// As written in the config: `tcp:127.0.0.1:9999`, `unix:/run/haproxy/admin.sock`.
        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
            case .unix(let path): "unix:\(path)"
            }
        }
    }

    /// The administrative state a failed site's servers are put in.
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// No new sessions; current ones finish; health checks go on.
        case drain
        /// No traffic and no health checks.
        case maint
    }

    /// The runtime API's address.
    public var admin: Admin
    /// The backend holding the site's servers.
    public var backend: String
    /// The site's servers in `backend` (at least one).
    public var servers: [String]
    /// The state `drain` and `fence` steps set (default `drain`).
    public var mode: Mode
    /// When set, after draining, wait up to this long for the servers' current sessions
    /// (`scur`) to reach zero; the step succeeds either way and says which happened.
    public var waitSessions: Duration?
    /// Upper bound of one runtime-API command (connect, send, read the reply).
    public var timeout: Duration

    /// Creates options with the documented defaults.
    public init(
        admin: Admin, backend: String, servers: [String], mode: Mode = .drain, waitSessions: Duration? = nil,
        timeout: Duration = .seconds(5)
    ) {
        self.admin = admin
        self.backend = backend
        self.servers = servers
        self.mode = mode
        self.waitSessions = waitSessions
        self.timeout = timeout
    }
}

/// The record types the DNS plugins manage.
public enum DNSRecordType: String, Sendable, Equatable, CaseIterable {
    /// An IPv4 address.
    case a = "A"
    /// An IPv6 address.
    case aaaa = "AAAA"
    /// An alias to another name.
    case cname = "CNAME"
}

/// Options of the `powerdns` plugin: one rrset replaced through the PowerDNS
/// Authoritative HTTP API (`PATCH /api/v1/servers/SERVER/zones/ZONE`, `changetype: REPLACE`).
public struct PowerDNSOptions: Sendable, Equatable {
    /// The API's base URL (`http://127.0.0.1:8081`), without `/api/v1`.
    public var api: String
    /// The API key (`X-API-Key`). A secret: never shown in summaries, errors or reports.
    public var key: String
    /// The PowerDNS server id (`localhost`).
    public var server: String
    /// The zone, fully qualified with its trailing dot (`example.test.`).
    public var zone: String
    /// The record's name, fully qualified, inside `zone` (`app.example.test.`).
    public var name: String
    /// The record's type.
    public var type: DNSRecordType
    /// The record's TTL (whole seconds); nil keeps the current rrset's TTL (60 s for a new one).
    public var ttl: Duration?
    /// The one value the rrset holds afterwards (a CNAME target is fully qualified).
    public var content: String
    /// When set, a DNS server (`host:port`) queried with `dig` after the change until it
    /// answers `content`, for at most `verifyTimeout`.
    public var verifyDNS: ListenAddress?
    /// How long the DNS verification may take.
    public var verifyTimeout: Duration

    /// Creates options with the documented defaults.
    public init(
        api: String, key: String, server: String = "localhost", zone: String, name: String, type: DNSRecordType = .a,
        ttl: Duration? = nil, content: String, verifyDNS: ListenAddress? = nil, verifyTimeout: Duration = .seconds(10)
    ) {
        self.api = api
        self.key = key
        self.server = server
        self.zone = zone
        self.name = name
        self.type = type
        self.ttl = ttl
        self.content = content
        self.verifyDNS = verifyDNS
        self.verifyTimeout = verifyTimeout
    }
}

/// Options of the `cloudflare` plugin: a DNS record's content and TTL, and/or one origin of
/// a load-balancer pool enabled or disabled, through the Cloudflare v4 API.
public struct CloudflareOptions: Sendable, Equatable {
    /// The DNS record to point at this site: found by name and type, then patched.
    public struct Record: Sendable, Equatable {
        /// The zone's id.
        public var zoneID: String
        /// The record's name as Cloudflare shows it (`app.example.com`, no trailing dot).
        public var name: String
        /// The record's type.
        public var type: DNSRecordType
        /// The value it gets.
        public var content: String
        /// The TTL it gets (1 s means Cloudflare's "automatic"); nil keeps the current one.
        public var ttl: Duration?

        /// Creates a record target.
        public init(zoneID: String, name: String, type: DNSRecordType = .a, content: String, ttl: Duration? = nil) {
            self.zoneID = zoneID
            self.name = name
            self.type = type
            self.content = content
            self.ttl = ttl
        }
    }

    /// One origin of a load-balancer pool, set to `enabled`.
    public struct PoolOrigin: Sendable, Equatable {
        /// The account owning the pool.
        public var accountID: String
        /// The pool's id.
        public var poolID: String
        /// The origin's name in the pool.
        public var origin: String
        /// Whether the origin takes traffic afterwards.
        public var enabled: Bool

        /// Creates a pool origin target.
        public init(accountID: String, poolID: String, origin: String, enabled: Bool) {
            self.accountID = accountID
            self.poolID = poolID
            self.origin = origin
            self.enabled = enabled
        }
    }

    /// The API's base URL (default `https://api.cloudflare.com/client/v4`; tests override it).
    public var api: String
    /// The API token (`Authorization: Bearer`). A secret: never shown in summaries, errors
    /// or reports.
    public var token: String
    /// The DNS record to change, if any.
    public var record: Record?
    /// The pool origin to change, if any. At least one of `record` and `pool` is set.
    public var pool: PoolOrigin?

    /// Cloudflare's production API.
    public static let defaultAPI = "https://api.cloudflare.com/client/v4"

    /// Creates options.
    public init(api: String = Self.defaultAPI, token: String, record: Record? = nil, pool: PoolOrigin? = nil) {
        self.api = api
        self.token = token
        self.record = record
        self.pool = pool
    }
}

extension Duration {
    /// Whole seconds (rounded down), as DNS TTLs are written.
    public var wholeSeconds: Int64 { components.seconds }
}

/// Options of the `postgres` plugin (libpq): `promote` turns the site's replica into the
/// primary (`pg_promote`), `fence` makes the site's old primary refuse writes.
public struct PostgresOptions: Sendable, Equatable {
    /// How `fence` stops an old primary that is still reachable.
    public enum FenceMode: String, Sendable, Equatable, CaseIterable {
        /// `fence_roles`' LOGIN revoked, `ALTER SYSTEM SET default_transaction_read_only = on`,
        /// reload, every other client session terminated.
        case readOnly = "read_only"
        /// The server stopped on its host (fast shutdown): needs a `host` block.
        case stop
    }

    /// The libpq connection string of the site's database (`postgres://user:pass@host:port/db`
    /// or `key=value` pairs). Its password is a secret: never shown in summaries or errors.
    public var dsn: String
    /// How `fence` fences (only `read_only` today).
    public var mode: FenceMode
    /// How long `pg_promote` may wait for the promotion (`wait_seconds`).
    public var promoteTimeout: Duration
    /// When set, `promote` refuses (permanently) when the data at risk (the old primary's
    /// last known WAL position minus what the replica received) exceeds this many bytes,
    /// unless the run is forced.
    public var maxLag: Int64?
    /// The application roles whose LOGIN `fence` revokes (and a promotion restores): with
    /// them a client cannot undo the fence with `SET default_transaction_read_only = off`.
    public var fenceRoles: [String]
    /// How to reach the database's host to stop, start and rewind the server (`rejoin`,
    /// `mode: stop`); nil when only SQL is available.
    public var host: DatabaseHost?
    /// How replicas reach this server once it is primary (the source of `pg_rewind` and
    /// the `primary_conninfo` a rejoined server gets); nil: `dsn`. Its password is never
    /// sent: the database host's `~/.pgpass` supplies it.
    public var primaryConninfo: String?

    /// Creates options with the documented defaults.
    public init(
        dsn: String, mode: FenceMode = .readOnly, promoteTimeout: Duration = .seconds(60), maxLag: Int64? = nil,
        fenceRoles: [String] = [], host: DatabaseHost? = nil, primaryConninfo: String? = nil
    ) {
        self.dsn = dsn
        self.mode = mode
        self.promoteTimeout = promoteTimeout
        self.maxLag = maxLag
        self.fenceRoles = fenceRoles
        self.host = host
        self.primaryConninfo = primaryConninfo
    }
}

/// Options of the `route53` plugin: one record set UPSERTed through the Route 53 API
/// (`ChangeResourceRecordSets`), then confirmed with `GetChange` until `INSYNC`.
///
/// Credentials are not options: they come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
/// and `AWS_SESSION_TOKEN` in the controller's environment at action time.
public struct Route53Options: Sendable, Equatable {
    /// Route 53's production endpoint.
    public static let defaultEndpoint = "https://route53.amazonaws.com"

    /// The hosted zone's id (`Z1D633PJN98FT9`, without `/hostedzone/`).
    public var zoneID: String
    /// The record's name, fully qualified with its trailing dot (`app.example.com.`).
    public var name: String
    /// The record's type.
    public var type: DNSRecordType
    /// The record's TTL (whole seconds).
    public var ttl: Duration
    /// The values the record set holds afterwards (at least one; a CNAME exactly one).
    public var values: [String]
    /// The API's base URL; tests point it at moto_server.
    public var endpoint: String
    /// The SigV4 region (Route 53 signs in `us-east-1`).
    public var region: String
    /// How often `GetChange` is asked while the change is `PENDING`.
    public var pollInterval: Duration

    /// Creates options with the documented defaults.
    public init(
        zoneID: String, name: String, type: DNSRecordType = .a, ttl: Duration = .seconds(60), values: [String],
        endpoint: String = Self.defaultEndpoint, region: String = "us-east-1", pollInterval: Duration = .seconds(1)
    ) {
        self.zoneID = zoneID
        self.name = name
        self.type = type
        self.ttl = ttl
        self.values = values
        self.endpoint = endpoint
        self.region = region
        self.pollInterval = pollInterval
    }
}

/// Options of the `elbv2` plugin: targets of one ELBv2 target group, deregistered on
/// `drain`/`fence` and registered on `promote`/`dns`, verified with `DescribeTargetHealth`.
///
/// Credentials come from the `AWS_*` environment variables at action time, as for `route53`.
public struct ELBv2Options: Sendable, Equatable {
    /// One target: an instance id or IP address, and optionally its port.
    public struct Target: Sendable, Equatable, CustomStringConvertible {
        /// `i-0123…` or `10.0.0.5`.
        public var id: String
        /// The port; nil means the target group's.
        public var port: Int?

        /// Creates a target.
        public init(id: String, port: Int? = nil) {
            self.id = id
            self.port = port
        }

        /// `10.0.0.5:80`, or the id alone without a port.
        public var description: String { port.map { "\(id):\($0)" } ?? id }
    }

    /// The target group's ARN.
    public var targetGroupARN: String
    /// The site's targets (at least one).
    public var targets: [Target]
    /// The region (`us-east-1`).
    public var region: String
    /// The API's base URL; nil means `https://elasticloadbalancing.REGION.amazonaws.com`.
    public var endpoint: String?

    /// Creates options.
    public init(targetGroupARN: String, targets: [Target], region: String = "us-east-1", endpoint: String? = nil) {
        self.targetGroupARN = targetGroupARN
        self.targets = targets
        self.region = region
        self.endpoint = endpoint
    }

    /// The endpoint requests go to.
    public var resolvedEndpoint: String { endpoint ?? "https://elasticloadbalancing.\(region).amazonaws.com" }
}
