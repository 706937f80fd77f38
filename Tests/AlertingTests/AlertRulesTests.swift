import Alerting
import FailoverCore
import Foundation
import Testing

/// Events in, alerts out; sinks' filters; the bodies each receiver gets.
@Suite struct AlertRulesTests {
    static let t0 = Timestamp(milliseconds: 1_767_225_600_000)

    static func event(
        _ kind: EventKind, id: Int64 = 1, group: String? = nil, site: String? = nil, epoch: Int? = nil,
        _ details: [String: JSONValue] = [:]
    ) -> Event {
        var all = details
        all["message"] = all["message"] ?? .string("\(kind.rawValue) happened")
        return Event(id: id, at: t0, controller: "c1", group: group, site: site, epoch: epoch, kind: kind, details: .object(all))
    }

    @Test func aSiteGoingDownTriggersAndComingBackResolvesTheSameKey() throws {
        let down = try #require(AlertRules.alerts(for: Self.event(.quorumVerdictChanged, site: "east", ["from": "suspect", "to": "down"])).first)
        #expect(down.kind == .siteDown && down.action == .trigger && down.severity == .error && down.key == "site:east")
        #expect(down.runbook == "primary-down.md")
        let up = try #require(AlertRules.alerts(for: Self.event(.quorumVerdictChanged, site: "east", ["from": "down", "to": "up"])).first)
        #expect(up.kind == .siteUp && up.action == .resolve && up.key == down.key)
        #expect(AlertRules.alerts(for: Self.event(.quorumVerdictChanged, site: "east", ["from": "unknown", "to": "up"])).isEmpty)
        #expect(AlertRules.alerts(for: Self.event(.quorumVerdictChanged, site: "east", ["from": "up", "to": "suspect"])).isEmpty)
    }

    /// With etcd every controller records the quorum's verdict; a follower's record says
    /// `alert: false`, so one alert goes out (the leader's), not one per controller.
    @Test func aFollowersRecordOfAVerdictDoesNotAlert() {
        let follower = Self.event(.quorumVerdictChanged, site: "east", ["from": "suspect", "to": "down", "alert": .bool(false)])
        #expect(AlertRules.alerts(for: follower).isEmpty)
        let leader = Self.event(.quorumVerdictChanged, site: "east", ["from": "suspect", "to": "down"])
        #expect(AlertRules.alerts(for: leader).count == 1)
        #expect(AlertRules.alerts(for: Self.event(.controllerLost, ["member": "c2"])).first?.key == "controller:c2")
    }

    @Test func aFailoverTriggersUnderItsIncidentAndItsSuccessResolvesIt() throws {
        let details: [String: JSONValue] = ["incident": "web-3", "kind": "failover"]
        let started = try #require(AlertRules.alerts(for: Self.event(.failoverStarted, group: "web", epoch: 3, details)).first)
        #expect(started.key == "web-3" && started.action == .trigger && started.severity == .warning)
        let stuck = try #require(AlertRules.alerts(for: Self.event(.failoverStuck, group: "web", epoch: 3, ["incident": "web-3"])).first)
        #expect(stuck.kind == .failoverFailed && stuck.severity == .critical && stuck.runbook == "failover-stuck.md")
        let done = try #require(AlertRules.alerts(for: Self.event(.failoverSucceeded, group: "web", epoch: 3, details)).first)
        #expect(done.kind == .failoverSucceeded && done.action == .resolve && done.key == "web-3")
        let drill = try #require(AlertRules.alerts(for: Self.event(.failoverSucceeded, group: "web", ["incident": "web-4", "kind": "drill"])).first)
        #expect(drill.kind == .drillFinished)
        let failedStep = AlertRules.alerts(for: Self.event(.stepFinished, group: "web", ["incident": "web-3", "result": "failed"]))
        #expect(failedStep.first?.kind == .stepFailed)
        #expect(AlertRules.alerts(for: Self.event(.stepFinished, group: "web", ["incident": "web-3", "result": "ok"])).isEmpty)
        #expect(AlertRules.alerts(for: Self.event(.noEligibleTarget, group: "web")).first?.severity == .critical)
        #expect(AlertRules.alerts(for: Self.event(.failoverNeeded, group: "web")).first?.key == "group:web")
    }

    @Test func losingTheQuorumTriggersAndRegainingItResolves() throws {
        let lost = try #require(AlertRules.alerts(for: Self.event(.quorumLost)).first)
        let regained = try #require(AlertRules.alerts(for: Self.event(.quorumRegained)).first)
        #expect(lost.severity == .critical && lost.action == .trigger && lost.key == "quorum:c1")
        #expect(regained.action == .resolve && regained.key == lost.key)
        #expect(AlertRules.alerts(for: Self.event(.splitBrain, group: "web")).first?.key == "split-brain:web")
        #expect(AlertRules.alerts(for: Self.event(.controllerLost, ["member": "us-west-2"])).first?.key == "controller:us-west-2")
    }

    @Test func anExpiringCertificateAlertsWhenItTakesTheSiteDown() {
        let results: JSONValue = .array([.object(["check": "api", "diagnosis": "certificate_expiring"])])
        let alerts = AlertRules.alerts(for: Self.event(.siteStateChanged, site: "east", ["to": "down", "results": results]))
        #expect(alerts.first?.kind == .certificateExpiring)
        #expect(alerts.first?.key == "cert:east")
        #expect(AlertRules.alerts(for: Self.event(.siteStateChanged, site: "east", ["to": "suspect", "results": results])).isEmpty)
    }

    @Test func sinksFilterBySeverityAndKindButLetResolvesThrough() throws {
        let pager = AlertSink(name: "pd", target: .pagerDuty(routingKey: "k", url: "http://x"), minSeverity: .error)
        let down = try #require(AlertRules.alerts(for: Self.event(.quorumVerdictChanged, site: "east", ["from": "up", "to": "down"])).first)
        let up = try #require(AlertRules.alerts(for: Self.event(.quorumVerdictChanged, site: "east", ["from": "down", "to": "up"])).first)
        let started = try #require(AlertRules.alerts(for: Self.event(.failoverStarted, group: "web", ["incident": "web-1"])).first)
        #expect(pager.accepts(down) && pager.accepts(up) && !pager.accepts(started))
        let chat = AlertSink(name: "s", target: .slack(webhookURL: "http://x"), kinds: [.failoverStarted])
        #expect(chat.accepts(started) && !chat.accepts(down) && !chat.accepts(up))
    }

    @Test func pagerDutyGetsATriggerWithPayloadAndRunbookOrABareResolve() throws {
        var alert = try #require(AlertRules.alerts(for: Self.event(.quorumVerdictChanged, site: "east", ["from": "up", "to": "down", "message": .string(String(repeating: "x", count: 2_000))])).first)
        let target = AlertSink.Target.pagerDuty(routingKey: "R0UT1NGKEY", url: "http://x")
        let trigger = try #require(try JSONSerialization.jsonObject(with: AlertRendering.body(alert, for: target, runbookBaseURL: "https://wiki/runbooks/")) as? [String: Any])
        #expect(trigger["routing_key"] as? String == "R0UT1NGKEY")
        #expect(trigger["event_action"] as? String == "trigger" && trigger["dedup_key"] as? String == "site:east")
        let payload = try #require(trigger["payload"] as? [String: Any])
        #expect((payload["summary"] as? String)?.count == 1_024)
        #expect(payload["severity"] as? String == "error" && payload["component"] as? String == "east")
        #expect((trigger["links"] as? [[String: Any]])?.first?["href"] as? String == "https://wiki/runbooks/primary-down.md")
        alert.action = .resolve
        let resolve = try #require(try JSONSerialization.jsonObject(with: AlertRendering.body(alert, for: target, runbookBaseURL: nil)) as? [String: Any])
        #expect(Set(resolve.keys) == ["routing_key", "event_action", "dedup_key"])
    }

    @Test func slackGetsBlocksWithTheRTOPhases() throws {
        let measures: JSONValue = .object(["rto_ms": 4_200, "detection_ms": 3_000, "decision_ms": 1, "actuation_ms": 1_099, "verification_ms": 100])
        let alert = try #require(AlertRules.alerts(for: Self.event(.failoverSucceeded, group: "web", epoch: 1, ["incident": "web-1", "measures": measures])).first)
        let body = String(decoding: AlertRendering.body(alert, for: .slack(webhookURL: "http://x"), runbookBaseURL: nil), as: UTF8.self)
        #expect(body.contains("RESOLVED"))
        #expect(body.contains("*RTO 4.2s* = detection 3s + decision 1ms + actuation 1.099s + verification 100ms"))
        #expect(body.contains("\"blocks\""))
    }
}
