import Alerting
import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// Delivery to contract servers on loopback: outages, rate limits, refusals, order.
@Suite struct AlertSenderTests {
    static let routingKey = "R0UTINGKEY0123456789abcdefABCDEF"

    func alert(_ kind: AlertKind, _ action: AlertAction, key: String, id: Int64) -> Alert {
        Alert(
            kind: kind, action: action, severity: .critical, key: key, summary: "\(kind.rawValue) \(key)", eventID: id,
            at: AlertRulesTests.t0, controller: "c1", group: "web", site: nil, epoch: 1, runbook: nil, details: [:])
    }

    func sender(_ sinks: [AlertSink], _ outbox: MemoryAlertOutbox) -> AlertSender {
        var sender = AlertSender(config: AlertConfig(sinks: sinks), outbox: outbox)
        sender.timeout = .milliseconds(500)
        return sender
    }

    /// Runs passes at the times the sender asks for, up to `limit` passes.
    func drain(_ sender: AlertSender, from start: Timestamp, limit: Int = 200) async throws -> Timestamp {
        var now = start
        for _ in 0..<limit {
            let pass = try await sender.deliverDue(now: now)
            guard let next = pass.nextDue else { return now }
            now = max(next, now)
        }
        Issue.record("the outbox did not drain in \(limit) passes")
        return now
    }

    @Test func aLongOutageDeliversEveryAlertOnceInOrderPerIncident() async throws {
        let server = try ContractServer(handler: AlertContracts.pagerDuty(routingKey: Self.routingKey))
        defer { server.close() }
        server.inject(Array(repeating: .status(503, "unavailable"), count: 25) + [.reset, .rateLimited(retryAfter: 30)])
        let outbox = MemoryAlertOutbox()
        let t0 = AlertRulesTests.t0
        for (i, incident) in ["web-1", "web-2", "web-3"].enumerated() {
            outbox.add(alert(.failoverStarted, .trigger, key: incident, id: Int64(2 * i)), sink: "pd", at: t0)
            outbox.add(alert(.failoverSucceeded, .resolve, key: incident, id: Int64(2 * i + 1)), sink: "pd", at: t0)
        }
        let sink = AlertSink(name: "pd", target: .pagerDuty(routingKey: Self.routingKey, url: server.url("/v2/enqueue")))
        let end = try await drain(sender([sink], outbox), from: t0)
        #expect(outbox.all.allSatisfy { if case .delivered = $0.1 { true } else { false } })
        let answered = server.answered.compactMap { $0.json }
        #expect(answered.count == 6, "each alert accepted exactly once")
        for incident in ["web-1", "web-2", "web-3"] {
            let actions = answered.filter { $0["dedup_key"] as? String == incident }.map { $0["event_action"] as? String }
            #expect(actions == ["trigger", "resolve"], "\(incident)")
        }
        // Every retry of an alert carried its dedup_key.
        let keys = server.requests.compactMap { $0.json?["dedup_key"] as? String }
        #expect(keys.count == server.requests.filter { $0.json != nil }.count)
        // Backoff grew (2 s doubling to 5 min) over the outage, so it took simulated minutes, not 27 tries at once.
        #expect(end.since(t0) > .seconds(300))
    }

    @Test func aRateLimitIsHonoured() async throws {
        let server = try ContractServer(handler: AlertContracts.slack(path: "/services/T0/B0/secretpath"))
        defer { server.close() }
        server.inject([.rateLimited(retryAfter: 45)])
        let outbox = MemoryAlertOutbox()
        let t0 = AlertRulesTests.t0
        outbox.add(alert(.siteDown, .trigger, key: "site:east", id: 1), sink: "chat", at: t0)
        let sink = AlertSink(name: "chat", target: .slack(webhookURL: server.url("/services/T0/B0/secretpath")))
        let sender = sender([sink], outbox)
        let pass = try await sender.deliverDue(now: t0)
        #expect(pass.retrying == 1)
        #expect(pass.nextDue == t0.advanced(by: .seconds(45)))
        #expect(try await sender.deliverDue(now: t0.advanced(by: .seconds(44))).delivered == 0)
        #expect(try await sender.deliverDue(now: t0.advanced(by: .seconds(45))).delivered == 1)
        #expect(server.answered.count == 1)
    }

    @Test func aRefusedAlertIsGivenUpOnWithoutBlockingTheRest() async throws {
        let server = try ContractServer(handler: AlertContracts.pagerDuty(routingKey: Self.routingKey))
        defer { server.close() }
        let outbox = MemoryAlertOutbox()
        let t0 = AlertRulesTests.t0
        var bad = alert(.siteDown, .trigger, key: "site:east", id: 1)
        bad.summary = ""
        outbox.add(bad, sink: "pd", at: t0)
        outbox.add(alert(.siteUp, .resolve, key: "site:east", id: 2), sink: "pd", at: t0)
        let sink = AlertSink(name: "pd", target: .pagerDuty(routingKey: Self.routingKey, url: server.url("/v2/enqueue")))
        let pass = try await sender([sink], outbox).deliverDue(now: t0)
        #expect(pass.failed == 1 && pass.delivered == 1)
        guard case .failed(let error) = outbox.all[0].1 else { Issue.record("not given up on"); return }
        #expect(error.contains("HTTP 400") && error.contains("payload.summary"))
        #expect(server.requests.count == 2, "a refused alert is not retried")
    }

    @Test func slowRepliesAndResetsAreRetriedAndSecretsNeverReachTheError() async throws {
        let path = "/services/T0/B0/s3cr3tWebhookPath"
        let server = try ContractServer(handler: AlertContracts.slack(path: path))
        defer { server.close() }
        server.inject([.slow(.seconds(2)), .reset])
        let outbox = MemoryAlertOutbox()
        let t0 = AlertRulesTests.t0
        outbox.add(alert(.siteDown, .trigger, key: "site:east", id: 1), sink: "chat", at: t0)
        let url = server.url(path)
        let sink = AlertSink(name: "chat", target: .slack(webhookURL: url))
        let sender = sender([sink], outbox)
        let first = try await sender.deliverDue(now: t0)
        #expect(first.retrying == 1)
        let second = try await sender.deliverDue(now: try #require(first.nextDue))
        #expect(second.retrying == 1)
        _ = try await drain(sender, from: try #require(second.nextDue))
        #expect(server.answered.count == 1)
        // A wrong webhook path is a permanent 404; the error names neither the URL nor its path.
        outbox.add(alert(.siteUp, .resolve, key: "site:east", id: 2), sink: "wrong", at: t0)
        let wrong = AlertSink(name: "wrong", target: .slack(webhookURL: server.url("/services/T0/B0/0therS3cretPath")))
        _ = try await self.sender([wrong], outbox).deliverDue(now: t0)
        guard case .failed(let error) = outbox.all.last?.1 else { Issue.record("not given up on"); return }
        #expect(error.contains("HTTP 404") && !error.contains("0therS3cretPath") && !error.contains(url))
    }

    @Test func backoffDoublesToItsCap() {
        let sender = AlertSender(config: AlertConfig(), outbox: MemoryAlertOutbox())
        #expect((1...10).map { sender.delay(afterAttempt: $0) } == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map { Duration.seconds($0) })
    }
}
