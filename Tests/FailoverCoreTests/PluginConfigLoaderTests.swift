import FailoverConfig
import FailoverCore
import Foundation
import Testing

/// Loads one site `s` whose `actions:` block is `actions` (YAML lines indented by two).
private func loadActions(_ actions: String, env: [String: String] = [:]) throws -> [StepKind: ActionSpec] {
    let files = try TestFiles()
    let path = try files.write("failoverctl.yaml", "controller: {id: c1}\nsites: [s.yaml]\n")
    try files.write("s.yaml", "name: s\nchecks:\n  - tcp: 127.0.0.1:5432\nactions:\n" + actions)
    let environment = ["PATH": "/usr/bin:/bin"].merging(env) { $1 }
    let config = try ConfigLoader(environment: environment, hostName: "test-host").load(path: path)
    return config.sites[0].actions
}

/// The error loading `actions` gives, as the one line users see (file name only).
private func loadError(_ actions: String, env: [String: String] = [:]) -> String? {
    do {
        _ = try loadActions(actions, env: env)
        return nil
    } catch let error as ConfigError {
        return "s.yaml:\(error.line.map(String.init) ?? "?"): \(error.key): \(error.message)"
    } catch {
        return "\(error)"
    }
}

/// Good and bad `haproxy:` actions.
@Suite struct HAProxyConfigTests {
    @Test func drainOverTCPAndFenceOverAUnixSocketLoadWithDefaults() throws {
        let actions = try loadActions(
            """
              drain: { haproxy: { admin: tcp:127.0.0.1:9999, backend: web, server: east } }
              fence:
                haproxy:
                  admin: "unix:/run/haproxy/admin.sock"
                  backend: web
                  servers: [east, east-2]
                  mode: maint
                  wait_sessions: 10s
                  timeout: 2s

            """)
        #expect(
            actions[.drain]
                == .haproxy(
                    HAProxyOptions(admin: .tcp(host: "127.0.0.1", port: 9999), backend: "web", servers: ["east"])))
        #expect(
            actions[.fence]
                == .haproxy(
                    HAProxyOptions(
                        admin: .unix(path: "/run/haproxy/admin.sock"), backend: "web", servers: ["east", "east-2"],
                        mode: .maint, waitSessions: .seconds(10), timeout: .seconds(2))))
        #expect(actions[.drain]?.summary == "haproxy web/east via tcp:127.0.0.1:9999")
    }

    @Test(arguments: [
        ("mode: drain", "server: is required: this site's server in the backend (or servers: [a, b])"),
        ("admin: 127.0.0.1:9999, server: east", "admin: \"127.0.0.1:9999\" is neither tcp:HOST:PORT nor unix:/path"),
        (
            "admin: \"unix:run/admin.sock\", server: east",
            "admin: \"unix:run/admin.sock\" needs an absolute socket path"
        ),
        (
            "server: \"east; shutdown\"",
            "server: \"east; shutdown\" may hold only letters, digits and '-', '_', '.', ':' (at most 127)"
        ),
        ("server: a, servers: [b]", "servers: write either server or servers, not both"),
        ("servers: [a, a]", "servers: lists a twice"),
        ("server: a, mode: off", "mode: \"off\" is not one of: drain, maint"),
        (
            "server: a, weight: 0",
            "weight: unknown key (expected one of: admin, backend, mode, server, servers, timeout, wait_sessions)"
        ),
    ])
    func badOptionsAreLocated(options: String, expected: String) {
        let admin = options.contains("admin:") ? "" : "admin: tcp:127.0.0.1:9999, "
        let options = "{ \(admin)backend: web, \(options) }"
        #expect(loadError("  drain: { haproxy: \(options) }\n") == "s.yaml:5: actions.drain.haproxy." + expected)
    }
}

/// Good and bad `powerdns:` actions; the key never appears in an error.
@Suite struct PowerDNSConfigTests {
    static let key = "pdns-secret-key-42"
    static let base = "api: http://127.0.0.1:8081, zone: example.test., name: app.example.test."

    @Test func theIssueExampleLoadsWithTheKeyFromTheEnvironment() throws {
        let actions = try loadActions(
            """
              dns: { powerdns: { api: http://127.0.0.1:8081, key: "${PDNS_API_KEY}", zone: example.test.,
                                 name: app.example.test., type: A, ttl: 30, content: 127.0.0.1,
                                 verify_dns: 127.0.0.1:5300 } }

            """, env: ["PDNS_API_KEY": Self.key])
        let expected = PowerDNSOptions(
            api: "http://127.0.0.1:8081", key: Self.key, zone: "example.test.", name: "app.example.test.", type: .a,
            ttl: .seconds(30), content: "127.0.0.1", verifyDNS: ListenAddress(host: "127.0.0.1", port: 5300))
        #expect(actions[.dns] == .powerdns(expected))
        #expect(actions[.dns]?.secrets.contains(Self.key) == true)
        #expect(actions[.dns]?.summary.contains(Self.key) == false)
    }

    @Test func namesAreQualifiedAndTTLMayBeADuration() throws {
        let actions = try loadActions(
            """
              dns:
                powerdns:
                  { api: "http://127.0.0.1:8081/", key: k123, zone: example.test, name: WWW.example.test,
                    type: cname, ttl: 5m, content: app.example.test, server: ns1 }

            """)
        guard case .powerdns(let o)? = actions[.dns] else { Issue.record("not powerdns"); return }
        #expect(o.api == "http://127.0.0.1:8081" && o.zone == "example.test." && o.name == "WWW.example.test.")
        #expect(o.type == .cname && o.content == "app.example.test." && o.ttl == .seconds(300) && o.server == "ns1")
        #expect(o.verifyDNS == nil)
    }

    @Test(arguments: [
        (
            "api: http://127.0.0.1:8081, zone: example.test., name: app.example.test., content: 127.0.0.1",
            "key: is required, e.g. key: \"${PDNS_API_KEY}\""
        ),
        (
            "BASE, key: \"${PDNS_UNSET}\", content: 127.0.0.1",
            "key: environment variable PDNS_UNSET is not set (use ${PDNS_UNSET:-default} for a default)"
        ),
        (
            "BASE, key: \"pdns secret key\", content: 127.0.0.1",
            "key: holds a space, a line break or a non-ASCII character (value not shown)"
        ),
        (
            "api: ftp://127.0.0.1, key: k123, zone: example.test., name: app.example.test., content: 127.0.0.1",
            "api: \"ftp://127.0.0.1\" is not an http:// or https:// URL"
        ),
        (
            "api: http://127.0.0.1:8081, key: k123, zone: example.test., name: app.other.test., content: 127.0.0.1",
            "name: app.other.test. is not in zone example.test."
        ),
        (
            "BASE, key: k123, content: 300.1.1.1",
            "content: \"300.1.1.1\" is not an IPv4 address"
        ),
        (
            "BASE, key: k123, type: MX, content: 127.0.0.1",
            "type: \"MX\" is not one of: A, AAAA, CNAME"
        ),
        (
            "BASE, key: k123, content: 127.0.0.1, ttl: 1.5s",
            "ttl: \"1.5s\" is not a TTL (whole seconds, e.g. 30 or 30s or 5m)"
        ),
        (
            "BASE, key: k123, content: 127.0.0.1, verify_timeout: 2s",
            "verify_timeout: only applies with verify_dns"
        ),
        (
            "BASE, key: k123, content: 127.0.0.1, verify_dns: localhost",
            "verify_dns: \"localhost\" is not IP:PORT (the DNS server to ask, e.g. 127.0.0.1:53)"
        ),
    ])
    func badOptionsAreLocatedWithoutTheKey(options: String, expected: String) {
        let options = options.replacingOccurrences(of: "BASE", with: Self.base)
        let error = loadError("  dns: { powerdns: { \(options) } }\n", env: ["PDNS_API_KEY": Self.key])
        #expect(error == "s.yaml:5: actions.dns.powerdns." + expected)
        #expect(error?.contains("secret") != true)
    }
}

/// Good and bad `cloudflare:` actions; the token never appears in an error.
@Suite struct CloudflareConfigTests {
    static let token = "cf-secret-token-42"
    static let zone = "023e105f4ecef8ad9ca31a8372d0c353"

    @Test func aRecordAndAPoolOriginLoadWithTheDefaultAPI() throws {
        let actions = try loadActions(
            """
              dns: { cloudflare: { zone_id: "\(Self.zone)", name: app.example.com, type: A, content: 203.0.113.7,
                                   ttl: 60, token: "${CF_API_TOKEN}" } }
              drain:
                cloudflare:
                  token: "${CF_API_TOKEN}"
                  api: "http://127.0.0.1:9000/client/v4"
                  pool: { account_id: acc1, pool_id: pool1, origin: east, enabled: false }

            """, env: ["CF_API_TOKEN": Self.token])
        let record = CloudflareOptions.Record(
            zoneID: Self.zone, name: "app.example.com", content: "203.0.113.7", ttl: .seconds(60))
        #expect(actions[.dns] == .cloudflare(CloudflareOptions(token: Self.token, record: record)))
        let pool = CloudflareOptions.PoolOrigin(accountID: "acc1", poolID: "pool1", origin: "east", enabled: false)
        #expect(
            actions[.drain]
                == .cloudflare(CloudflareOptions(api: "http://127.0.0.1:9000/client/v4", token: Self.token, pool: pool))
        )
        #expect(actions[.drain]?.summary == "cloudflare pool pool1 origin east disabled")
        #expect(actions.values.allSatisfy { !$0.summary.contains(Self.token) })
    }

    @Test(arguments: [
        (
            "zone_id: Z1, name: app.example.com, content: 203.0.113.7",
            "token: is required, e.g. token: \"${CF_API_TOKEN}\""
        ),
        (
            "token: \"${CF_API_TOKEN}\"",
            "name: is required: a DNS record (zone_id, name, content) or a pool to change"
        ),
        (
            "token: \"${CF_API_TOKEN}\", name: app.example.com, content: 203.0.113.7",
            "zone_id: is required with a DNS record: the zone's id from the dashboard"
        ),
        (
            "token: \"${CF_API_TOKEN}\", zone_id: Z1, name: app.example.com, content: 203.0.113.7, ttl: 30",
            "ttl: 30s is out of range: 1 (automatic) or 60...86400 seconds"
        ),
        (
            "token: \"${CF_API_TOKEN}\", zone_id: Z1, name: app.example.com, type: AAAA, content: 203.0.113.7",
            "content: \"203.0.113.7\" is not an IPv6 address"
        ),
        (
            "token: \"${CF_API_TOKEN}\", pool: { account_id: a, pool_id: p, origin: east }",
            "pool.enabled: is required: true to send this origin traffic, false to stop it"
        ),
        (
            "token: \"${CF_API_TOKEN}\", pool: { account_id: a, pool_id: p, origin: east, enabled: false, weight: 1 }",
            "pool.weight: unknown key (expected one of: account_id, enabled, origin, pool_id)"
        ),
        (
            "token: \"${CF_API_TOKEN}\", zone_id: Z1, name: app.example.com, content: 203.0.113.7, proxied: true",
            "proxied: unknown key (expected one of: api, content, name, pool, token, ttl, type, zone_id)"
        ),
    ])
    func badOptionsAreLocatedWithoutTheToken(options: String, expected: String) {
        let error = loadError("  dns: { cloudflare: { \(options) } }\n", env: ["CF_API_TOKEN": Self.token])
        #expect(error == "s.yaml:5: actions.dns.cloudflare." + expected)
        #expect(error?.contains(Self.token) != true)
    }
}

/// Good and bad `postgres:` actions.
@Suite struct PostgresConfigTests {
    static let password = "Pg-Secret-Value-42"

    @Test func fenceAndPromoteLoadWithDefaultsAndSummariesHideThePassword() throws {
        let actions = try loadActions(
            """
              fence: { postgres: { dsn: "postgres://postgres:${PGPW}@127.0.0.1:5432/postgres", mode: read_only } }
              promote: { postgres: { dsn: "host=127.0.0.1 port=5433 password=${PGPW}", promote_timeout: 30s, max_lag: 16MB } }

            """, env: ["PGPW": Self.password])
        let fenceDSN = "postgres://postgres:\(Self.password)@127.0.0.1:5432/postgres"
        #expect(actions[.fence] == .postgres(PostgresOptions(dsn: fenceDSN)))
        #expect(
            actions[.promote]
                == .postgres(
                    PostgresOptions(
                        dsn: "host=127.0.0.1 port=5433 password=\(Self.password)", promoteTimeout: .seconds(30),
                        maxLag: 16 << 20)))
        #expect(actions[.fence]?.summary == "postgres postgres://127.0.0.1:5432/postgres")
        #expect(actions[.promote]?.summary == "postgres host=127.0.0.1 port=5433 password=REDACTED")
        #expect(actions[.fence]?.secrets.contains(Self.password) == true)
        #expect(actions[.promote]?.secrets.contains(Self.password) == true)
    }

    @Test(arguments: [
        ("  fence: { postgres: { mode: read_only } }\n", "actions.fence.postgres.dsn: is required, e.g. dsn: \"postgres://postgres@127.0.0.1:5432/postgres\""),
        ("  fence: { postgres: { dsn: \"host=h\", mode: stop } }\n", "actions.fence.postgres.mode: stop needs a host block (how to reach the database's host to stop the server)"),
        ("  fence: { postgres: { dsn: \"host=h\", mode: off } }\n", "actions.fence.postgres.mode: \"off\" is not one of: read_only, stop"),
        ("  fence: { postgres: { dsn: \"host=h\", fence_roles: [\"a b\"] } }\n", "actions.fence.postgres.fence_roles: \"a b\" is not a role name (letters, digits, _ $ - ., at most 63)"),
        ("  promote: { postgres: { dsn: \"host=h\", max_lag: lots } }\n", "actions.promote.postgres.max_lag: \"lots\" is not a size (bytes, or a whole number with a unit: 512KB, 16MB, 1GB)"),
        ("  promote: { postgres: { dsn: \"host=h\", promote_timeout: 100ms } }\n", "actions.promote.postgres.promote_timeout: 100ms is outside 1s...24h (pg_promote waits whole seconds)"),
        ("  dns: { postgres: { dsn: \"host=h\" } }\n", "actions.dns: the postgres plugin only performs fence and promote (a database is not drained or named in DNS)"),
        ("  fence: { postgres: { dsn: \"postgres://u:Pg-Secret-Value-42@h:70000/db\" } }\n", "actions.fence.postgres.dsn: \"postgres://h:70000/db\" has port 70000, outside 1...65535"),
    ])
    func badOptionsAreLocatedWithoutThePassword(actions: String, expected: String) {
        let error = loadError(actions)
        #expect(error == "s.yaml:5: " + expected)
        #expect(error?.contains(Self.password) != true)
    }
}

/// Good and bad `route53:` actions; credentials are never options.
@Suite struct Route53ConfigTests {
    @Test func aRecordLoadsWithDefaultsAndAnEndpointOverride() throws {
        let actions = try loadActions(
            """
              dns: { route53: { zone_id: /hostedzone/Z1D633PJN98FT9, name: App.Example.Test, type: a, ttl: 30,
                                value: 127.0.0.2, endpoint: "http://127.0.0.1:5000", poll_interval: 200ms } }
            """)
        let expected = Route53Options(
            zoneID: "Z1D633PJN98FT9", name: "App.Example.Test.", type: .a, ttl: .seconds(30), values: ["127.0.0.2"],
            endpoint: "http://127.0.0.1:5000", region: "us-east-1", pollInterval: .milliseconds(200))
        #expect(actions[.dns] == .route53(expected))
        #expect(actions[.dns]?.plugin == "route53")
        #expect(
            actions[.dns]?.summary
                == "route53 App.Example.Test. A 127.0.0.2 in zone Z1D633PJN98FT9 at http://127.0.0.1:5000")
        #expect(actions[.dns]?.secrets == [])
    }

    @Test func severalValuesAndProductionDefaults() throws {
        let actions = try loadActions("  dns: { route53: { zone_id: Z1, name: app.example.com., values: [192.0.2.1, 192.0.2.2] } }\n")
        guard case .route53(let o)? = actions[.dns] else { Issue.record("not route53"); return }
        #expect(o.values == ["192.0.2.1", "192.0.2.2"])
        #expect(o.endpoint == Route53Options.defaultEndpoint && o.region == "us-east-1")
        #expect(o.ttl == .seconds(60) && o.pollInterval == .seconds(1))
    }

    @Test(arguments: [
        ("zone_id: Z1, name: a.example.com., value: 10.0.0.1, secret_access_key: x", "secret_access_key: unknown key (expected one of: endpoint, name, poll_interval, region, ttl, type, value, values, zone_id)"),
        ("name: a.example.com., value: 10.0.0.1", "zone_id: is required: the hosted zone's id, e.g. zone_id: Z1D633PJN98FT9"),
        ("zone_id: Z1, name: a.example.com.", "value: is required: the value the record gets for this site (or values: [a, b])"),
        ("zone_id: Z1, name: a.example.com., type: AAAA, value: 10.0.0.1", "value: \"10.0.0.1\" is not an IPv6 address"),
        ("zone_id: Z1, name: a.example.com., type: CNAME, values: [a.example.net, b.example.net]", "values: a CNAME holds exactly one value"),
        ("zone_id: Z1, name: a.example.com., value: 10.0.0.1, endpoint: ftp://x", "endpoint: \"ftp://x\" is not an http:// or https:// URL"),
        ("zone_id: Z-1, name: a.example.com., value: 10.0.0.1", "zone_id: \"Z-1\" is not a hosted zone id (letters and digits)"),
    ])
    func badOptionsAreLocated(options: String, expected: String) {
        #expect(loadError("  dns: { route53: { \(options) } }\n") == "s.yaml:5: actions.dns.route53." + expected)
    }
}

/// Good and bad `elbv2:` actions.
@Suite struct ELBv2ConfigTests {
    static let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067"

    @Test func targetsLoadForDrainAndPromote() throws {
        let actions = try loadActions(
            """
              drain: { elbv2: { target_group_arn: "\(Self.arn)", targets: [{ id: 10.0.0.5, port: 80 }, { id: i-0abc }] } }
              promote: { elbv2: { target_group_arn: "\(Self.arn)", targets: [{ id: 10.0.0.5, port: 80 }],
                                  region: eu-west-1, endpoint: "http://127.0.0.1:5000" } }
            """)
        let drain = ELBv2Options(targetGroupARN: Self.arn, targets: [.init(id: "10.0.0.5", port: 80), .init(id: "i-0abc")])
        #expect(actions[.drain] == .elbv2(drain))
        #expect(drain.resolvedEndpoint == "https://elasticloadbalancing.us-east-1.amazonaws.com")
        guard case .elbv2(let promote)? = actions[.promote] else { Issue.record("not elbv2"); return }
        #expect(promote.region == "eu-west-1" && promote.resolvedEndpoint == "http://127.0.0.1:5000")
        #expect(
            actions[.drain]?.summary
                == "elbv2 10.0.0.5:80, i-0abc in \(Self.arn) at https://elasticloadbalancing.us-east-1.amazonaws.com")
        #expect(actions[.drain]?.secrets == [])
    }

    @Test(arguments: [
        ("targets: [{ id: 10.0.0.5 }]", "target_group_arn: is required: the target group's ARN"),
        ("target_group_arn: \"\(arn)\"", "targets: is required: this site's targets, e.g. targets: [{ id: 10.0.0.5, port: 80 }]"),
        ("target_group_arn: \"\(arn)\", targets: [{ port: 80 }]", "targets[0].id: is required: an instance id or IP address"),
        ("target_group_arn: \"\(arn)\", targets: [{ id: a, weight: 2 }]", "targets[0].weight: unknown key (expected one of: id, port)"),
        ("target_group_arn: \"\(arn)\", targets: [{ id: a }, { id: a }]", "targets: lists a twice"),
    ])
    func badOptionsAreLocated(options: String, expected: String) {
        #expect(loadError("  drain: { elbv2: { \(options) } }\n") == "s.yaml:5: actions.drain.elbv2." + expected)
    }
}
