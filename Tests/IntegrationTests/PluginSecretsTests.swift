import FailoverTesting
import Foundation
import XCTest

/// The plugins' secrets (a PostgreSQL password, a PowerDNS API key, a Cloudflare token) stay
/// out of the log at debug level, the events, `status` and `report`, also when the steps
/// that hold them fail and are retried against servers that refuse them.
final class PluginSecretsTests: XCTestCase {
    func testPluginSecretsStayOutOfLogsEventsStatusAndReport() throws {
        let secrets = ["PgPassw0rdQ", "PdnsK3yZZ9", "CfT0kenYY7"]
        let east = try TCPListener()
        let west = try TCPListener()
        let refused = try FreePort.tcp()
        let cloudflare = try ContractServer { _ in
            .init(403, #"{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}"#)
        }
        defer { cloudflare.close() }
        func actions(_ site: String) -> String {
            """
            fence: { postgres: { dsn: "postgres://admin:${PG_PASSWORD}@127.0.0.1:\(refused)/postgres" } }
            promote: { exec: ["/bin/true"] }
            dns: { powerdns: { api: "http://127.0.0.1:\(refused)", key: "${PDNS_KEY}", zone: example.test., name: app.example.test., type: A, content: 127.0.0.2 } }
            ready: { cloudflare: { zone_id: "z1", name: app.example.com, type: A, content: 203.0.113.7, token: "${CF_TOKEN}", api: "\(cloudflare.url("/client/v4"))" } }
            """
        }
        let group = """
            groups:
              - name: web
                primary: east
                standbys: [west]
                plan:
                  - step: fence
                    timeout: 1s
                    retries: 1
                    on_failure: continue
                  - promote
                  - step: ready
                    retries: 1
                    on_failure: continue
                  - step: dns
                    timeout: 1s
                    retries: 1
            """
        let c = try ControllerProcess(
            sites: [
                "east": ControllerProcess.site("east", fall: 1, checks: "- tcp: 127.0.0.1:\(east.port)", actions: actions("east")),
                "west": ControllerProcess.site("west", fall: 1, checks: "- tcp: 127.0.0.1:\(west.port)", actions: actions("west")),
            ], extra: group)
        let env = ["PG_PASSWORD": secrets[0], "PDNS_KEY": secrets[1], "CF_TOKEN": secrets[2]]
        try c.start(env: env)
        try c.waitUntilServing()
        try c.waitFor("both sites up") { try c.siteState("east") == "up" && c.siteState("west") == "up" }
        east.close()
        try c.waitFor("the failover stuck at the dns step", timeout: 60) {
            (try c.json("/groups/web") as? [String: Any])?["phase"] as? String == "stuck"
        }
        XCTAssertFalse(cloudflare.requests.isEmpty, "the cloudflare step ran")
        XCTAssertEqual(cloudflare.requests.first?.headers["authorization"], "Bearer \(secrets[2])")
        let outputs = [
            ("status", try c.run(["status"], env: env).stdout), ("status --json", try c.run(["status", "--json"], env: env).stdout),
            ("events --json", try c.run(["events", "--json"], env: env).stdout),
            ("report", try c.run(["report"], env: env).stdout), ("report --json", try c.run(["report", "--json"], env: env).stdout),
            ("check", try c.run(["check"], env: env).stdout),
        ]
        XCTAssertEqual(c.stop(), 0, c.logTail())
        let log = c.logTail(100_000)
        XCTAssertTrue(log.contains("step 1 (fence) failed"), log)
        XCTAssertTrue(log.contains("step 4 (dns) failed"), log)
        for (name, text) in outputs + [("log", log)] {
            XCTAssertFalse(text.isEmpty, "\(name) printed something")
            for secret in secrets {
                XCTAssertFalse(text.contains(secret), "\(name) leaks \(secret)")
            }
        }
        west.close()
    }
}
