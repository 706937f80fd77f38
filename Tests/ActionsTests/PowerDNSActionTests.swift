import Actions
import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// The powerdns plugin against a real PowerDNS Authoritative server (gsqlite3) on loopback.
@Suite(.serialized) struct PowerDNSActionTests {
    private func options(
        _ server: PowerDNSServer, content: String = "127.0.0.2", api: String? = nil, key: String? = nil
    )
        -> PowerDNSOptions
    {
        PowerDNSOptions(
            api: api ?? server.apiURL, key: key ?? server.apiKey, zone: PowerDNSServer.zone, name: PowerDNSServer.name,
            type: .a, ttl: .seconds(30), content: content,
            verifyDNS: ListenAddress(host: "127.0.0.1", port: server.dnsPort), verifyTimeout: .seconds(5))
    }

    @Test func replacesTheRecordAndDigAnswersTheNewAddressTwiceHarmlessly() async throws {
        let server = try await PowerDNSServer.start()
        #expect(try server.dig() == [PowerDNSServer.initialAddress])
        let spec = ActionSpec.powerdns(options(server))
        let log = CapturedLog()
        let (report, _) = try await PluginFixture.timed("powerdns PATCH + dig verify") {
            try await PowerDNSAction(logger: log.logger).perform(PluginFixture.request(spec, kind: .dns))
        }
        #expect(report.changed.first == "set app.example.test. A to 127.0.0.2 with TTL 30s (was 127.0.0.1)")
        #expect(
            report.changed.last?.hasPrefix("127.0.0.1:\(server.dnsPort) answers app.example.test. A 127.0.0.2 after")
                == true)
        #expect(report.dnsTTL == .seconds(30))
        #expect(try server.dig() == ["127.0.0.2"], "\(server.logTail())")

        let (again, _) = try await PluginFixture.timed("powerdns again (already)") {
            try await PowerDNSAction().perform(PluginFixture.request(spec, kind: .dns))
        }
        #expect(again.changed.first == "app.example.test. A already was 127.0.0.2 (TTL 30s)")
        #expect(try server.dig() == ["127.0.0.2"])
        #expect(log.text.contains("set app.example.test. A") && !log.text.contains(server.apiKey))
    }

    @Test func aWrongKeyFailsPermanentlyAtOnceWithoutTheKey() async throws {
        let server = try await PowerDNSServer.start()
        let wrong = "wrong-pdns-key-0123456789"
        let spec = ActionSpec.powerdns(options(server, key: wrong))
        let observer = RecordingObserver()
        let log = CapturedLog()
        let outcome = try await PluginFixture.runner(
            observer, plugins: ["powerdns": PowerDNSAction(logger: log.logger)]
        )
        .run(PluginFixture.step(spec, kind: .dns), context: Fixture.context())
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 1)
        #expect(outcome.record.error?.contains("refused the API key (401)") == true, "\(outcome.record.error ?? "")")
        let shown = PluginFixture.texts(outcome, observer) + spec.summary + log.text
        #expect(!shown.contains(wrong) && !shown.contains(server.apiKey))
        #expect(try server.dig() == [PowerDNSServer.initialAddress])
    }

    @Test func anUnknownZoneIsPermanent() async throws {
        let server = try await PowerDNSServer.start()
        var o = options(server)
        o.zone = "other.test."
        o.name = "app.other.test."
        let error = try await #require(throws: ActionError.self) {
            try await PowerDNSAction().perform(PluginFixture.request(.powerdns(o), kind: .dns))
        }
        #expect(!error.isRetryable)
        #expect(error.description.contains("has no zone other.test. on server localhost (404)"))
    }

    @Test func serverErrorsAndRateLimitsAreRetriedUntilTheChangeLands() async throws {
        let server = try await PowerDNSServer.start()
        let proxy = try ContractServer(handler: PowerDNSProxy.forward(to: server))
        proxy.inject([.status(500, #"{"error": "backend gone"}"#), .rateLimited(retryAfter: 2)])
        let spec = ActionSpec.powerdns(options(server, api: proxy.url("")))
        let observer = RecordingObserver()
        let (outcome, _) = try await PluginFixture.timed("powerdns 500, 429, then success (3 attempts)") {
            try await PluginFixture.runner(observer).run(
                PluginFixture.step(spec, kind: .dns), context: Fixture.context())
        }
        #expect(outcome.record.result == .ok, "\(observer.calls)")
        #expect(outcome.record.attempts == 3)
        let errors = observer.calls.compactMap { call -> String? in
            if case .attemptFailed(_, let error, _) = call { return error }
            return nil
        }
        #expect(errors.first?.contains("answered 500 to reading zone example.test.: backend gone") == true, "\(errors)")
        #expect(
            errors.last?.contains("rate-limited reading zone example.test. (429); it asks to retry after 2s") == true)
        #expect(try server.dig() == ["127.0.0.2"])
        #expect(!PluginFixture.texts(outcome, observer).contains(server.apiKey))
    }

    @Test func aSilentAPITimesOutWithinTheAttempt() async throws {
        let server = try await PowerDNSServer.start()
        let silent = try HangingServer()
        defer { silent.close() }
        let spec = ActionSpec.powerdns(options(server, api: "http://127.0.0.1:\(silent.port)"))
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: ActionError.self) {
            try await PowerDNSAction().perform(PluginFixture.request(spec, kind: .dns, timeout: .milliseconds(400)))
        }
        let elapsed = start.duration(to: clock.now)
        #expect(error.isTimeout && error.isRetryable, "\(error)")
        #expect(elapsed >= .milliseconds(350) && elapsed < .seconds(2), "took \(elapsed)")
    }

    @Test func aRefusedConnectionIsRetryable() async throws {
        let server = try await PowerDNSServer.start()
        let port = try FreePort.tcp()
        let spec = ActionSpec.powerdns(options(server, api: "http://127.0.0.1:\(port)"))
        let error = try await #require(throws: ActionError.self) {
            try await PowerDNSAction().perform(PluginFixture.request(spec, kind: .dns))
        }
        #expect(error.isRetryable && !error.isTimeout)
        #expect(error.description.contains("cannot reach the PowerDNS API at http://127.0.0.1:\(port)"))
    }

    @Test func verificationFailsRetryablyWhenTheDNSServerDoesNotAnswer() async throws {
        let server = try await PowerDNSServer.start()
        var o = options(server)
        o.verifyDNS = ListenAddress(host: "127.0.0.1", port: try FreePort.tcp())
        o.verifyTimeout = .milliseconds(300)
        let error = try await #require(throws: ActionError.self) {
            try await PowerDNSAction().perform(PluginFixture.request(.powerdns(o), kind: .dns))
        }
        #expect(error.isRetryable)
        #expect(error.description.contains("the rrset was replaced, but 127.0.0.1:"))
        #expect(error.description.contains("still answers app.example.test. A with nothing (no reply) after 300ms"))
        #expect(try server.dig() == ["127.0.0.2"])
    }
}

/// A `ContractServer` handler that forwards every request to a real PowerDNS API (so
/// faults can be injected in front of it): method, path, key and body as received.
enum PowerDNSProxy {
    static func forward(to server: PowerDNSServer) -> @Sendable (ContractServer.Request) -> ContractServer.Reply {
        let port = server.apiPort
        return { request in
            var head = "\(request.method) \(request.path) HTTP/1.0\r\nHost: 127.0.0.1\r\n"
            if let key = request.headers["x-api-key"] { head += "X-API-Key: \(key)\r\n" }
            head += "Content-Type: application/json\r\nContent-Length: \(request.body.count)\r\n\r\n"
            guard
                let raw = try? LoopbackExchange.exchange(
                    Array(head.utf8) + request.body, port: port, timeout: .seconds(5)),
                let split = raw.range(of: "\r\n\r\n")
            else { return .init(502, "proxy: no answer from PowerDNS") }
            let status = raw.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 502
            return .init(status, String(raw[split.upperBound...]), headers: ["Content-Type": "application/json"])
        }
    }
}
