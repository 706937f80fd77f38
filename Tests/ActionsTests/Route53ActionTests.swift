import Actions
import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// The route53 plugin against a real moto_server on loopback.
@Suite(.serialized) struct Route53ActionTests {
    static let secret = "moto-secret-key-0123456789abcdef"
    static let environment = ["AWS_ACCESS_KEY_ID": "AKIDMOTOTEST", "AWS_SECRET_ACCESS_KEY": secret]
    static let name = "app.example.test."

    private func plugin(_ log: CapturedLog? = nil, environment: [String: String] = Self.environment) -> Route53Action {
        log.map { Route53Action(environment: { environment }, logger: $0.logger) }
            ?? Route53Action(environment: { environment })
    }

    private func options(zone: String, endpoint: String, value: String = "127.0.0.2") -> Route53Options {
        Route53Options(
            zoneID: zone, name: Self.name, type: .a, ttl: .seconds(30), values: [value], endpoint: endpoint,
            pollInterval: .milliseconds(50))
    }

    /// A moto with zone example.test. holding app.example.test. 60 A 127.0.0.1.
    private func zone() async throws -> (MotoServer, String) {
        let moto = try await MotoServer.start()
        let zone = try await Blocking.run {
            let zone = try moto.createHostedZone("example.test.")
            try moto.upsertRecord(zoneID: zone, name: Self.name, ttl: 60, values: ["127.0.0.1"])
            return zone
        }
        return (moto, zone)
    }

    @Test func upsertsTheRecordUntilInSyncAndTwiceIsHarmless() async throws {
        let (moto, zone) = try await zone()
        let spec = ActionSpec.route53(options(zone: zone, endpoint: moto.endpoint))
        let log = CapturedLog()
        let (report, _) = try await PluginFixture.timed("route53 list + UPSERT + GetChange (moto)") {
            try await plugin(log).perform(PluginFixture.request(spec, kind: .dns))
        }
        #expect(report.changed.first == "set app.example.test. A to 127.0.0.2 with TTL 30s (was 127.0.0.1)")
        #expect(report.changed.last?.hasPrefix("Route 53 change ") == true, "\(report.changed)")
        #expect(report.changed.last?.contains(" INSYNC after ") == true)
        #expect(report.dnsTTL == .seconds(30))
        let record = try await Blocking.run { try moto.record(zoneID: zone, name: Self.name) }
        #expect(record?.ttl == 30 && record?.values == ["127.0.0.2"], "\(moto.logTail())")

        let (again, _) = try await PluginFixture.timed("route53 again (already)") {
            try await plugin().perform(PluginFixture.request(spec, kind: .dns))
        }
        #expect(again.changed == ["app.example.test. A already was 127.0.0.2 (TTL 30s)"])
        #expect(try await Blocking.run { try moto.record(zoneID: zone, name: Self.name) }?.values == ["127.0.0.2"])
        #expect(log.text.contains("set app.example.test. A") && !log.text.contains(Self.secret))
    }

    @Test func createsAMissingRecordWithSeveralValues() async throws {
        let (moto, zone) = try await zone()
        var o = options(zone: zone, endpoint: moto.endpoint)
        o.name = "www.example.test."
        o.values = ["127.0.0.3", "127.0.0.4"]
        let report = try await plugin().perform(PluginFixture.request(.route53(o), kind: .dns))
        #expect(report.changed.first == "set www.example.test. A to 127.0.0.3, 127.0.0.4 with TTL 30s")
        let record = try await Blocking.run { try moto.record(zoneID: zone, name: "www.example.test.") }
        #expect(Set(record?.values ?? []) == ["127.0.0.3", "127.0.0.4"])
    }

    @Test func serverErrorsAndThrottlingAreRetriedUntilTheChangeLands() async throws {
        let (moto, zone) = try await zone()
        let proxy = try ContractServer(handler: AWSProxy.forward(to: moto))
        proxy.inject([
            .status(500, AWSProxy.error("InternalFailure", "try again")),
            .status(400, AWSProxy.error("Throttling", "Rate exceeded")),
        ])
        let spec = ActionSpec.route53(options(zone: zone, endpoint: proxy.url("")))
        let observer = RecordingObserver()
        let (outcome, _) = try await PluginFixture.timed("route53 500, Throttling, then success (3 attempts)") {
            try await PluginFixture.runner(observer, plugins: ["route53": plugin()]).run(
                PluginFixture.step(spec, kind: .dns), context: Fixture.context())
        }
        #expect(outcome.record.result == .ok, "\(observer.calls)")
        #expect(outcome.record.attempts == 3)
        let errors = observer.calls.compactMap { call -> String? in
            if case .attemptFailed(_, let error, _) = call { return error }
            return nil
        }
        #expect(
            errors.first?.contains("answered InternalFailure (500) to reading app.example.test. A") == true, "\(errors)"
        )
        #expect(errors.last?.contains("answered Throttling (400)") == true, "\(errors)")
        #expect(try await Blocking.run { try moto.record(zoneID: zone, name: Self.name) }?.values == ["127.0.0.2"])
        #expect(
            proxy.requests.allSatisfy {
                $0.headers["authorization"]?.contains("/us-east-1/route53/aws4_request") == true
            })
        #expect(!PluginFixture.texts(outcome, observer).contains(Self.secret))
    }

    @Test func anUnknownZoneIsPermanentWithAWSCodeAndMessage() async throws {
        let (moto, _) = try await zone()
        let spec = ActionSpec.route53(options(zone: "ZNOSUCHZONE", endpoint: moto.endpoint))
        let error = try await #require(throws: ActionError.self) {
            try await plugin().perform(PluginFixture.request(spec, kind: .dns))
        }
        #expect(!error.isRetryable)
        #expect(
            error.description.contains("refused reading app.example.test. A in zone ZNOSUCHZONE with NoSuchHostedZone"),
            "\(error)")
    }

    @Test func aMissingSecretKeyFailsPermanentlyNamingTheVariableOnly() async throws {
        let spec = ActionSpec.route53(options(zone: "Z1", endpoint: "http://127.0.0.1:9"))
        let observer = RecordingObserver()
        let only = ["AWS_ACCESS_KEY_ID": "AKIDONLYTHEID", "AWS_SESSION_TOKEN": "token-value-42"]
        let outcome = try await PluginFixture.runner(observer, plugins: ["route53": plugin(environment: only)])
            .run(PluginFixture.step(spec, kind: .dns), context: Fixture.context())
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 1)
        #expect(
            outcome.record.error?.contains("AWS_SECRET_ACCESS_KEY is not set") == true, "\(outcome.record.error ?? "")")
        let shown = PluginFixture.texts(outcome, observer) + spec.summary
        #expect(!shown.contains("token-value-42") && !shown.contains(Self.secret))
    }

    @Test func aSilentEndpointTimesOutWithinTheAttempt() async throws {
        let silent = try HangingServer()
        defer { silent.close() }
        let spec = ActionSpec.route53(options(zone: "Z1", endpoint: "http://127.0.0.1:\(silent.port)"))
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: ActionError.self) {
            try await plugin().perform(PluginFixture.request(spec, kind: .dns, timeout: .milliseconds(400)))
        }
        let elapsed = start.duration(to: clock.now)
        #expect(error.isTimeout && error.isRetryable, "\(error)")
        #expect(elapsed >= .milliseconds(350) && elapsed < .seconds(2), "took \(elapsed)")
    }
}
