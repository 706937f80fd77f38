import Foundation
import XCTest

/// `deploy/prometheus/failoverctl-rules.yml` passes `promtool check rules`, its unit tests
/// (`failoverctl-rules.test.yml`: the site-down, no-quorum, no-leader, scrape-down, stuck,
/// failover and RTO alerts fire on the right series) pass `promtool test rules`, and every
/// alert carries a summary, a description and a runbook link to a file that exists.
final class PrometheusRulesTests: XCTestCase {
    static let directory = Promtool.repo.appendingPathComponent("deploy/prometheus")

    func testTheRulesPassPromtoolCheck() throws {
        let check = try Promtool.run(["check", "rules", "failoverctl-rules.yml"], in: Self.directory)
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("SUCCESS"), check.output)
    }

    func testTheRuleUnitTestsPass() throws {
        let test = try Promtool.run(["test", "rules", "failoverctl-rules.test.yml"], in: Self.directory)
        XCTAssertEqual(test.status, 0, test.output)
        XCTAssertTrue(test.output.contains("SUCCESS"), test.output)
        // The unit tests cover at least the alerts the on-call engineer is woken for first.
        let tests = try String(
            contentsOf: Self.directory.appendingPathComponent("failoverctl-rules.test.yml"), encoding: .utf8)
        for alert in [
            "FailoverctlSiteDown", "FailoverctlPrimarySiteDown", "FailoverctlNoQuorum", "FailoverctlNoLeader",
        ] {
            XCTAssertTrue(
                tests.contains("alertname: \(alert)\n        exp_alerts:\n          - exp_labels"),
                "\(alert) is never shown to fire")
        }
    }

    func testEveryAlertHasASummaryADescriptionAndARunbookThatExists() throws {
        let text = try String(
            contentsOf: Self.directory.appendingPathComponent("failoverctl-rules.yml"), encoding: .utf8)
        let alerts = text.components(separatedBy: "\n      - alert: ").dropFirst()
        XCTAssertGreaterThanOrEqual(alerts.count, 10)
        for alert in alerts {
            let name = String(alert.prefix { $0 != "\n" })
            XCTAssertTrue(alert.contains("\n          summary: "), "\(name) has no summary")
            XCTAssertTrue(alert.contains("\n          description: "), "\(name) has no description")
            XCTAssertTrue(alert.contains("\n          severity: "), "\(name) has no severity")
            let link = try XCTUnwrap(
                alert.firstMatch(
                    of: /runbook_url: https:\/\/github\.com\/OWNER\/failoverctl\/blob\/main\/(runbooks\/[a-z-]+\.md)/),
                "\(name) has no runbook_url")
            let runbook = Promtool.repo.appendingPathComponent(String(link.output.1))
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: runbook.path),
                "\(name) links \(runbook.path), which does not exist")
        }
    }
}
