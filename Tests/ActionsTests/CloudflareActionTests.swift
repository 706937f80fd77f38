import Actions
import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// The cloudflare plugin against a contract server that follows the v4 API's envelope.
@Suite struct CloudflareActionTests {
    static let token = "cf-test-token-0123456789abcdef"
    static let zone = "023e105f4ecef8ad9ca31a8372d0c353"
    static let recordID = "372e67954025e0ba6aaa6d586b9e0b59"

    private func contract(ttl: Int = 60) throws -> CloudflareContract {
        try CloudflareContract(
            token: Self.token, zone: Self.zone,
            records: [
                .init(id: Self.recordID, name: "app.example.com", type: "A", content: "203.0.113.7", ttl: ttl),
                .init(id: "other", name: "www.example.com", type: "A", content: "203.0.113.9", ttl: 300),
            ],
            pools: [
                "pool-1": [
                    .init(name: "east", address: "203.0.113.7", enabled: true, weight: 0.5),
                    .init(name: "west", address: "203.0.113.20", enabled: true, weight: 0.5),
                ]
            ])
    }

    private func spec(
        _ contract: CloudflareContract, content: String = "203.0.113.20", ttl: Duration? = .seconds(120),
        token: String = Self.token, pool: CloudflareOptions.PoolOrigin? = nil, record: Bool = true
    ) -> ActionSpec {
        let target = CloudflareOptions.Record(zoneID: Self.zone, name: "app.example.com", content: content, ttl: ttl)
        return .cloudflare(
            CloudflareOptions(api: contract.api, token: token, record: record ? target : nil, pool: pool))
    }

    @Test func patchesTheRecordFoundByNameAndTypeThenSaysAlready() async throws {
        let contract = try contract()
        let log = CapturedLog()
        let (report, _) = try await PluginFixture.timed("cloudflare find + PATCH record") {
            try await CloudflareAction(logger: log.logger).perform(PluginFixture.request(spec(contract), kind: .dns))
        }
        #expect(report.changed == ["set app.example.com A to 203.0.113.20 with TTL 2m (was 203.0.113.7)"])
        #expect(report.dnsTTL == .seconds(120))
        #expect(contract.record(Self.zone, id: Self.recordID)?.content == "203.0.113.20")
        #expect(contract.record(Self.zone, id: Self.recordID)?.ttl == 120)
        #expect(contract.record(Self.zone, id: "other")?.content == "203.0.113.9")
        #expect(
            contract.calls == [
                "GET /client/v4/zones/\(Self.zone)/dns_records?name=app.example.com&type=A",
                "PATCH /client/v4/zones/\(Self.zone)/dns_records/\(Self.recordID)",
            ])
        #expect(contract.server.requests.last?.json?["content"] as? String == "203.0.113.20")
        #expect(contract.server.requests.allSatisfy { $0.headers["authorization"] == "Bearer \(Self.token)" })

        let (again, _) = try await PluginFixture.timed("cloudflare again (already)") {
            try await CloudflareAction().perform(PluginFixture.request(spec(contract), kind: .dns))
        }
        #expect(again.changed == ["app.example.com A already was 203.0.113.20 (TTL 2m)"])
        #expect(contract.calls.count == 3, "no second PATCH")
        #expect(log.text.contains("set app.example.com A") && !log.text.contains(Self.token))
    }

    @Test func withoutATTLKeepsTheRecordsOwnAndAutomaticCountsAsFiveMinutes() async throws {
        let contract = try contract(ttl: 1)
        let report = try await CloudflareAction().perform(PluginFixture.request(spec(contract, ttl: nil), kind: .dns))
        #expect(report.changed == ["set app.example.com A to 203.0.113.20 with TTL automatic (was 203.0.113.7)"])
        #expect(report.dnsTTL == .seconds(300))
        #expect(contract.server.requests.last?.json?["ttl"] == nil)
    }

    @Test func disablesThePoolOriginKeepingTheOthersAsTheyWere() async throws {
        let contract = try contract()
        let pool = CloudflareOptions.PoolOrigin(accountID: "acc-1", poolID: "pool-1", origin: "east", enabled: false)
        let drain = spec(contract, pool: pool, record: false)
        let (report, _) = try await PluginFixture.timed("cloudflare GET + PATCH pool") {
            try await CloudflareAction().perform(PluginFixture.request(drain, kind: .drain))
        }
        #expect(report.changed == ["disabled origin east of pool pool-1"])
        #expect(report.dnsTTL == nil)
        let origins = contract.origins("pool-1")
        #expect(origins.map(\.enabled) == [false, true])
        #expect(origins.map(\.address) == ["203.0.113.7", "203.0.113.20"] && origins.map(\.weight) == [0.5, 0.5])
        let again = try await CloudflareAction().perform(PluginFixture.request(drain, kind: .drain))
        #expect(again.changed == ["origin east of pool pool-1 was already disabled"])
        #expect(contract.calls.filter { $0.hasPrefix("PATCH") }.count == 1)
    }

    @Test func serverErrorsAndRateLimitsAreRetriedAndNameRetryAfter() async throws {
        let contract = try contract()
        let busy = CloudflareContract.failure(500, code: 10013, "Internal server error").body
        contract.server.inject([.status(500, busy), .rateLimited(retryAfter: 7)])
        let observer = RecordingObserver()
        let (outcome, _) = try await PluginFixture.timed("cloudflare 500, 429, then success (3 attempts)") {
            try await PluginFixture.runner(observer).run(
                PluginFixture.step(spec(contract), kind: .dns), context: Fixture.context())
        }
        #expect(outcome.record.result == .ok, "\(observer.calls)")
        #expect(outcome.record.attempts == 3)
        #expect(outcome.dnsTTL == .seconds(120))
        let errors = observer.calls.compactMap { call -> String? in
            if case .attemptFailed(_, let error, _) = call { return error }
            return nil
        }
        #expect(errors.count == 2)
        #expect(
            errors.first?.contains("answered 500 to finding app.example.com A: code 10013: Internal server error")
                == true)
        #expect(
            errors.last?.contains("rate-limited finding app.example.com A (429); it asks to retry after 7s") == true)
        #expect(contract.record(Self.zone, id: Self.recordID)?.content == "203.0.113.20")
    }

    @Test func aWrongTokenFailsPermanentlyAtOnceAndIsNeverShown() async throws {
        let contract = try contract()
        let wrong = "cf-wrong-token-9876543210"
        let observer = RecordingObserver()
        let spec = spec(contract, token: wrong)
        let log = CapturedLog()
        let plugin = CloudflareAction(logger: log.logger)
        let outcome = try await PluginFixture.runner(observer, plugins: ["cloudflare": plugin]).run(
            PluginFixture.step(spec, kind: .dns), context: Fixture.context())
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 1)
        #expect(
            outcome.record.error?.contains("refused the API token (403; code 10000: Authentication error)") == true,
            "\(outcome.record.error ?? "")")
        let shown = PluginFixture.texts(outcome, observer) + spec.summary + log.text
        #expect(!shown.contains(wrong) && !shown.contains(Self.token))
        #expect(contract.record(Self.zone, id: Self.recordID)?.content == "203.0.113.7")
    }

    @Test func aRejectedChangeQuotesCloudflaresErrorAndIsPermanent() async throws {
        let contract = try contract()
        let error = try await #require(throws: ActionError.self) {
            try await CloudflareAction().perform(
                PluginFixture.request(spec(contract, content: "not-an-ip"), kind: .dns))
        }
        #expect(!error.isRetryable)
        #expect(
            error.description.contains("answered 400 to updating app.example.com A: code 9005: Content for A record"))
    }

    @Test func aMissingRecordIsPermanent() async throws {
        let contract = try contract()
        var options = CloudflareOptions(api: contract.api, token: Self.token)
        options.record = .init(zoneID: Self.zone, name: "api.example.com", content: "203.0.113.20")
        let error = try await #require(throws: ActionError.self) {
            try await CloudflareAction().perform(PluginFixture.request(.cloudflare(options), kind: .dns))
        }
        #expect(!error.isRetryable)
        #expect(error.description.contains("zone \(Self.zone) has no api.example.com A record"))
    }

    @Test func aSilentAPITimesOutWithinTheAttempt() async throws {
        let silent = try HangingServer()
        defer { silent.close() }
        let options = CloudflareOptions(
            api: "http://127.0.0.1:\(silent.port)/client/v4", token: Self.token,
            record: .init(zoneID: Self.zone, name: "app.example.com", content: "203.0.113.20"))
        let observer = RecordingObserver()
        let step = PluginFixture.step(.cloudflare(options), kind: .dns, timeout: .milliseconds(300), retries: 1)
        let (outcome, elapsed) = try await PluginFixture.timed("cloudflare silent API, 2 attempts of 300 ms") {
            try await PluginFixture.runner(observer).run(step, context: Fixture.context())
        }
        #expect(outcome.record.result == .failed && outcome.record.attempts == 2)
        #expect(outcome.record.error?.hasPrefix("timed out after 300ms") == true, "\(outcome.record.error ?? "")")
        #expect(elapsed >= .milliseconds(600) && elapsed < .seconds(3), "took \(elapsed)")
    }
}
