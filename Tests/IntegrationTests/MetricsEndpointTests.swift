import FailoverTesting
import Foundation
import XCTest

/// `GET /metrics` of the real binary against two real nginx sites: the scrape passes
/// `promtool check metrics`, carries real values (probes timed, sites up, epoch, quorum,
/// leader), follows the primary's failure through a failover, and never shows a secret; the
/// Grafana dashboard and the alert rules use only metrics a real scrape has.
final class MetricsEndpointTests: XCTestCase {
    /// The password in east's check URL: it must not reach the metrics.
    static let secret = "s3cret-in-the-url"

    /// A controller with sites east (primary of `web`, its check URL carrying credentials)
    /// and west, an exec promote and a verify step, an RTO target, and a webhook sink
    /// nobody listens on (so alerts stay in the outbox).
    private func controller(east: NginxServer, west: NginxServer) throws -> ControllerProcess {
        let promote = "promote: { exec: [\"/bin/true\"] }"
        let eastURL = east.url().replacingOccurrences(of: "http://", with: "http://monitor:\(Self.secret)@")
        let extra = """
            groups:
              - name: web
                primary: east
                standbys: [west]
                rto: 30s
                plan: [promote, verify]
            alerts:
              - webhook: { url: "http://127.0.0.1:\(try FreePort.tcp())/hook" }
            """
        return try ControllerProcess(
            sites: [
                "east": ControllerProcess.site(
                    "east", fall: 2, rise: 1, checks: "- name: api\n  http: \(eastURL)", actions: promote),
                "west": ControllerProcess.site(
                    "west", fall: 2, rise: 1, checks: "- name: api\n  http: \(west.url())", actions: promote),
            ], extra: extra)
    }

    /// Scrapes `/metrics` until `condition` holds (polling an external process, with a deadline).
    private func scrape(
        _ c: ControllerProcess, until what: String, timeout: TimeInterval = 30,
        _ condition: (PrometheusScrape) -> Bool
    ) throws -> PrometheusScrape {
        var last: PrometheusScrape?
        try c.waitFor("\(what) in /metrics", timeout: timeout) {
            guard let data = try c.get("/metrics") else { return false }
            last = try PrometheusScrape(String(decoding: data, as: UTF8.self))
            return last.map(condition) ?? false
        }
        return try XCTUnwrap(last)
    }

    /// `promtool check metrics` on `scrape`: exit 0 and no lint remark.
    private func assertPromtoolAccepts(_ scrape: PrometheusScrape, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let check = try Promtool.run(["check", "metrics"], input: scrape.text)
        XCTAssertEqual(check.status, 0, "promtool check metrics: \(check.output)", file: file, line: line)
        XCTAssertEqual(check.output.trimmingCharacters(in: .whitespacesAndNewlines), "", file: file, line: line)
    }

    func testTheScrapePassesPromtoolAndFollowsThePrimarysFailureThroughAFailover() throws {
        let east = try NginxServer([.http])
        let west = try NginxServer([.http])
        defer {
            east.stop()
            west.stop()
        }
        let c = try controller(east: east, west: west)
        try c.start()
        try c.waitUntilServing()
        let api = ["site": "east", "check": "api"]
        let healthy = try scrape(c, until: "both sites up after three probes of east") { s in
            s.value("failoverctl_site_up", ["site": "east"]) == 1
                && s.value("failoverctl_site_up", ["site": "west"]) == 1
                && (s.value("failoverctl_probe_duration_seconds_count", api) ?? 0) >= 3
        }
        try assertPromtoolAccepts(healthy)
        XCTAssertEqual(healthy.types["failoverctl_probe_duration_seconds"], "histogram")
        XCTAssertEqual(
            healthy.value("failoverctl_probe_duration_seconds_count", api.merging(["kind": "http"]) { $1 }).map {
                $0 >= 3
            }, true)
        XCTAssertGreaterThan(try XCTUnwrap(healthy.value("failoverctl_probe_duration_seconds_sum", api)), 0)
        XCTAssertGreaterThanOrEqual(
            try XCTUnwrap(healthy.value("failoverctl_probe_total", api.merging(["result": "ok"]) { $1 })), 3)
        XCTAssertEqual(healthy.value("failoverctl_probe_total", api.merging(["result": "fail"]) { $1 }), 0)
        XCTAssertEqual(healthy.value("failoverctl_site_verdict", ["site": "east", "verdict": "up"]), 1)
        XCTAssertEqual(healthy.value("failoverctl_group_epoch", ["group": "web"]), 0)
        XCTAssertEqual(healthy.value("failoverctl_group_primary", ["group": "web", "site": "east"]), 1)
        XCTAssertEqual(healthy.value("failoverctl_group_state", ["group": "web", "state": "steady"]), 1)
        XCTAssertEqual(healthy.value("failoverctl_group_rto_target_seconds", ["group": "web"]), 30)
        XCTAssertEqual(healthy.value("failoverctl_coordination_quorate"), 1)
        XCTAssertEqual(healthy.value("failoverctl_coordination_leader", ["controller": "it-1"]), 1)
        XCTAssertEqual(healthy.value("failoverctl_coordination_members_alive"), 1)
        XCTAssertEqual(healthy.value("failoverctl_failovers_total", ["group": "web", "kind": "failover"]), 0)
        XCTAssertNil(healthy.value("failoverctl_last_rto_seconds", ["group": "web"]))
        XCTAssertEqual(healthy.value("failoverctl_alert_outbox_pending"), 0)

        try east.setHealthy(false)
        let failed = try scrape(c, until: "web failed over to west") { s in
            s.value("failoverctl_group_primary", ["group": "web", "site": "west"]) == 1
                && s.value("failoverctl_group_state", ["group": "web", "state": "steady"]) == 1
                && s.value("failoverctl_failovers_total", ["group": "web", "kind": "failover"]) == 1
        }
        try assertPromtoolAccepts(failed)
        XCTAssertEqual(failed.value("failoverctl_site_up", ["site": "east"]), 0)
        XCTAssertEqual(failed.value("failoverctl_site_verdict", ["site": "east", "verdict": "down"]), 1)
        XCTAssertEqual(failed.value("failoverctl_site_verdict", ["site": "east", "verdict": "up"]), 0)
        XCTAssertEqual(failed.value("failoverctl_site_state", ["site": "east", "state": "down"]), 1)
        XCTAssertGreaterThanOrEqual(
            try XCTUnwrap(failed.value("failoverctl_probe_total", api.merging(["result": "fail"]) { $1 })), 2)
        XCTAssertEqual(failed.value("failoverctl_site_up", ["site": "west"]), 1)
        XCTAssertEqual(failed.value("failoverctl_group_epoch", ["group": "web"]), 1)
        XCTAssertEqual(failed.value("failoverctl_group_primary", ["group": "web", "site": "east"]), 0)
        XCTAssertEqual(failed.value("failoverctl_failovers_total", ["group": "web", "kind": "drill"]), 0)
        let rto = try XCTUnwrap(failed.value("failoverctl_last_rto_seconds", ["group": "web"]), failed.text)
        XCTAssertTrue(rto > 0 && rto < 30, "RTO \(rto) s")
        // The site_down and failover alerts wait for a webhook that never answers.
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(failed.value("failoverctl_alert_outbox_pending")), 1)

        for scrape in [healthy, failed] {
            XCTAssertFalse(scrape.text.contains(Self.secret), "a secret in /metrics")
            XCTAssertFalse(scrape.text.contains("127.0.0.1"), "an address in /metrics")
        }
        let header = try c.run(
            [
                "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{content_type}",
                "http://127.0.0.1:\(c.port)/metrics",
            ],
            direct: true)
        XCTAssertEqual(header.stdout, "200 text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(c.stop(), 0, c.logTail())
    }

    func testTheDashboardAndTheAlertRulesUseOnlyMetricsARealScrapeHas() throws {
        let east = try NginxServer([.http])
        let west = try NginxServer([.http])
        defer {
            east.stop()
            west.stop()
        }
        let c = try controller(east: east, west: west)
        try c.start()
        try c.waitUntilServing()
        // After a failover every metric has a series, the last RTO included.
        try east.setHealthy(false)
        let scrape = try scrape(c, until: "a measured RTO of web") { s in
            s.value("failoverctl_last_rto_seconds", ["group": "web"]) != nil
        }
        XCTAssertEqual(c.stop(), 0, c.logTail())

        let dashboardURL = Promtool.repo.appendingPathComponent("deploy/grafana/failoverctl-dashboard.json")
        let dashboard = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: dashboardURL)) as? [String: Any])
        XCTAssertEqual(dashboard["schemaVersion"] as? Int, 39)
        let inputs = try XCTUnwrap(dashboard["__inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.first?["name"] as? String, "DS_PROMETHEUS")
        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap {
            ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
        }
        XCTAssertGreaterThanOrEqual(expressions.count, 10)
        let dashboardNames = Self.metricNames(in: expressions.joined(separator: "\n"))
        XCTAssertEqual(dashboardNames.subtracting(scrape.names), [], "dashboard metrics missing from a real scrape")
        for needed in [
            "failoverctl_site_up", "failoverctl_probe_duration_seconds_bucket", "failoverctl_group_primary",
            "failoverctl_group_epoch", "failoverctl_group_state", "failoverctl_failovers_total",
            "failoverctl_last_rto_seconds",
            "failoverctl_alert_outbox_pending", "failoverctl_coordination_quorate", "failoverctl_coordination_leader",
        ] {
            XCTAssertTrue(dashboardNames.contains(needed), "the dashboard has no panel on \(needed)")
        }

        let rules = try String(
            contentsOf: Promtool.repo.appendingPathComponent("deploy/prometheus/failoverctl-rules.yml"), encoding: .utf8
        )
        let ruleNames = Self.metricNames(
            in: rules.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }.joined(
                separator: "\n"))
        XCTAssertGreaterThanOrEqual(ruleNames.count, 8)
        XCTAssertEqual(ruleNames.subtracting(scrape.names), [], "alert rule metrics missing from a real scrape")
    }

    /// Every `failoverctl_…` metric name in `text`.
    static func metricNames(in text: String) -> Set<String> {
        let pattern = /failoverctl_[a-z0-9_]+/
        return Set(text.matches(of: pattern).map { String($0.output) })
    }
}
