import FailoverTesting
import Foundation
import XCTest

/// Alerts through the binary: queued in the event's transaction, kept across a kill -9
/// while PagerDuty is down, delivered in order after the restart, trigger and resolve with
/// one `dedup_key`; the routing key and the webhook URL never shown.
final class AlertDeliveryTests: XCTestCase {
    static let routingKey = "ROUTINGkey0123456789abcdefABCDEF"
    static let slackPath = "/services/T0001/B0001/hookSecretXYZ"
    static let hookToken = "hdrTokenSecret0987"

    func testAlertsPendingAtAKillAreDeliveredAfterRestartInOrder() throws {
        let pagerDuty = try ContractServer(handler: AlertContracts.pagerDuty(routingKey: Self.routingKey))
        let slack = try ContractServer(handler: AlertContracts.slack(path: Self.slackPath))
        let hook = try ContractServer(handler: AlertContracts.webhook(header: "X-Token", value: Self.hookToken))
        defer {
            pagerDuty.close()
            slack.close()
            hook.close()
        }
        var listener = try TCPListener()
        let port = listener.port
        let alerts = """
            alerts:
              - pagerduty: { routing_key: "${PD_KEY}", url: "\(pagerDuty.url("/v2/enqueue"))" }
                min_severity: error
              - slack: { webhook_url: "${SLACK_URL}" }
              - webhook: { url: "\(hook.url("/failover"))", headers: { X-Token: "${HOOK_TOKEN}" } }
                events: [site_down]
            """
        let c = try ControllerProcess(
            sites: ["east": ControllerProcess.site("east", fall: 2, rise: 1, checks: "- tcp: 127.0.0.1:\(port)")],
            extra: alerts)
        let env = ["PD_KEY": Self.routingKey, "SLACK_URL": slack.url(Self.slackPath), "HOOK_TOKEN": Self.hookToken]
        pagerDuty.inject(Array(repeating: .status(503, "down for maintenance"), count: 10_000))
        try c.start(env: env)
        try c.waitUntilServing()
        try c.waitFor("east up") { try c.siteState("east") == "up" }

        listener.close()
        try c.waitFor("east down, alerted on Slack") { slack.answered.contains { $0.text.contains("site_down") } }
        listener = try TCPListener(port: port)
        try c.waitFor("east up, alerted on Slack") { slack.answered.contains { $0.text.contains("RESOLVED") } }
        // Slack's answer reaches the test before the controller records the delivery.
        try c.waitFor("only PagerDuty's two alerts pending") {
            (try c.status()?["alerts"] as? [String: Any])?["pending"] as? Int == 2
        }
        let pending = try XCTUnwrap(try c.status()?["alerts"] as? [String: Any])
        XCTAssertEqual(pending["pending"] as? Int, 2, "\(pending)")
        XCTAssertTrue(pagerDuty.requests.count >= 1, "PagerDuty was tried during its outage")
        XCTAssertEqual(pagerDuty.answered.count, 0)
        XCTAssertEqual(c.stop(signal: SIGKILL), SIGKILL)

        pagerDuty.clearFaults()
        try c.start(env: env)
        try c.waitUntilServing()
        try c.waitFor("both PagerDuty alerts delivered after the restart", timeout: 60) { pagerDuty.answered.count >= 2 }
        let events = pagerDuty.answered.compactMap { $0.json }
        XCTAssertEqual(events.map { $0["event_action"] as? String }, ["trigger", "resolve"])
        XCTAssertEqual(Set(events.compactMap { $0["dedup_key"] as? String }), ["site:east"])
        let retries = pagerDuty.requests.compactMap { $0.json?["dedup_key"] as? String }
        XCTAssertEqual(Set(retries), ["site:east"], "every retry carried the same dedup_key")
        XCTAssertEqual(slack.answered.count, 2, "Slack got each alert once")
        XCTAssertEqual(hook.answered.compactMap { $0.json?["kind"] as? String }, ["site_down"], "the webhook got what it filters for")
        let status = try XCTUnwrap(try c.status()?["alerts"] as? [String: Any])
        XCTAssertEqual(status["pending"] as? Int, 0)

        XCTAssertEqual(c.stop(), 0, c.logTail())
        for secret in [Self.routingKey, "hookSecretXYZ", Self.hookToken] {
            XCTAssertFalse(c.logTail(100_000).contains(secret), "a secret reached the log")
            for command in [["events", "--json"], ["status", "--json"], ["check"]] {
                let output = try c.run(command, env: env)
                XCTAssertFalse(output.stdout.contains(secret) || output.stderr.contains(secret), "\(command) shows a secret")
            }
        }
    }
}
