import Actions
import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// The haproxy plugin against a real HAProxy 2.6 runtime API on loopback.
@Suite(.serialized) struct HAProxyActionTests {
    static let fdrain: UInt32 = 0x08
    static let fmaint: UInt32 = 0x01

    private func spec(
        _ server: HAProxyServer, admin: HAProxyOptions.Admin? = nil, servers: [String] = ["east"],
        mode: HAProxyOptions.Mode = .drain, waitSessions: Duration? = nil, timeout: Duration = .seconds(5)
    ) -> ActionSpec {
        .haproxy(
            HAProxyOptions(
                admin: admin ?? .tcp(host: "127.0.0.1", port: server.adminPort), backend: HAProxyServer.backend,
                servers: servers, mode: mode, waitSessions: waitSessions, timeout: timeout))
    }

    private func perform(_ spec: ActionSpec, _ kind: StepKind, label: String) async throws -> ActionReport {
        let (report, _) = try await PluginFixture.timed(label) {
            try await HAProxyAction().perform(PluginFixture.request(spec, kind: kind))
        }
        return report
    }

    @Test func drainsOverTCPThenFailsBackToReadyAndBothAreIdempotent() async throws {
        let server = try await HAProxyServer.start()
        let drain = spec(server)
        let first = try await perform(drain, .drain, label: "haproxy drain web/east (tcp)")
        #expect(first.changed == ["set web/east to drain"])
        #expect(try server.adminState("east") & Self.fdrain != 0, "\(server.logTail())")
        #expect(try server.adminState("west") == 0)
        let again = try await perform(drain, .drain, label: "haproxy drain again (already)")
        #expect(again.changed == ["web/east was already drain"])
        #expect(try server.adminState("east") & Self.fdrain != 0)

        let ready = try await perform(drain, .promote, label: "haproxy ready web/east (failback)")
        #expect(ready.changed == ["set web/east to ready"])
        #expect(try server.adminState("east") == 0)
        let readyAgain = try await perform(drain, .promote, label: "haproxy ready again (already)")
        #expect(readyAgain.changed == ["web/east was already ready"])
    }

    @Test func fencesBothServersIntoMaintenanceOverTheUnixSocket() async throws {
        let server = try await HAProxyServer.start()
        let fence = spec(server, admin: .unix(path: server.adminSocket), servers: ["east", "west"], mode: .maint)
        let report = try await perform(fence, .fence, label: "haproxy maint web/east+west (unix)")
        #expect(report.changed == ["set web/east to maintenance", "set web/west to maintenance"])
        for name in HAProxyServer.servers { #expect(try server.adminState(name) & Self.fmaint != 0) }
        let again = try await perform(fence, .fence, label: "haproxy maint again (already)")
        #expect(again.changed.allSatisfy { $0.hasSuffix("was already maintenance") })
    }

    @Test func drainWaitsUntilTheServersSessionsEnd() async throws {
        let server = try await HAProxyServer.start()
        // Round robin sends one of two sessions to each server.
        let clients = try (0..<2).map { _ in try HeldConnection(port: server.frontendPort) }
        try await Task.sleep(for: .milliseconds(100))
        Task {
            try await Task.sleep(for: .milliseconds(300))
            clients.forEach { $0.close() }
        }
        let (report, elapsed) = try await PluginFixture.timed("haproxy drain + wait_sessions (300 ms session)") {
            try await HAProxyAction().perform(
                PluginFixture.request(spec(server, waitSessions: .seconds(5)), kind: .drain))
        }
        #expect(report.changed.first == "set web/east to drain")
        #expect(report.changed.last?.hasPrefix("no sessions left on web/east after") == true, "\(report.changed)")
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3))
    }

    @Test func drainStopsWaitingForSessionsAtTheBound() async throws {
        let server = try await HAProxyServer.start()
        let clients = try (0..<2).map { _ in try HeldConnection(port: server.frontendPort) }
        defer { clients.forEach { $0.close() } }
        try await Task.sleep(for: .milliseconds(100))
        let (report, elapsed) = try await PluginFixture.timed("haproxy drain + wait_sessions bound 300 ms") {
            try await HAProxyAction().perform(
                PluginFixture.request(spec(server, waitSessions: .milliseconds(300)), kind: .drain))
        }
        #expect(report.changed.last == "stopped waiting after 300ms: 1 session still on web/east")
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(3))
    }

    @Test func anUnknownServerOrBackendIsAPermanentErrorQuotingHAProxy() async throws {
        let server = try await HAProxyServer.start()
        let noServer = try await #require(throws: ActionError.self) {
            try await HAProxyAction().perform(PluginFixture.request(spec(server, servers: ["nope"]), kind: .drain))
        }
        #expect(!noServer.isRetryable)
        #expect(
            noServer.description == "failed permanently: HAProxy backend web has no server nope (it has: east, west)")
        var other = HAProxyOptions(
            admin: .tcp(host: "127.0.0.1", port: server.adminPort), backend: "api", servers: ["east"])
        other.timeout = .seconds(2)
        let noBackend = try await #require(throws: ActionError.self) {
            try await HAProxyAction().perform(PluginFixture.request(.haproxy(other), kind: .drain))
        }
        #expect(!noBackend.isRetryable)
        #expect(noBackend.description.contains("HAProxy refused `show servers state api` with \"Can't find backend.\""))
    }

    @Test func aRefusedConnectionIsRetryable() async throws {
        let port = try FreePort.tcp()
        let options = HAProxyOptions(admin: .tcp(host: "127.0.0.1", port: port), backend: "web", servers: ["east"])
        let error = try await #require(throws: ActionError.self) {
            try await HAProxyAction().perform(PluginFixture.request(.haproxy(options), kind: .drain))
        }
        #expect(error.isRetryable && !error.isTimeout)
        #expect(error.description.contains("cannot connect to the HAProxy runtime API at tcp:127.0.0.1:\(port)"))
    }

    @Test func aSilentAPITimesOutAtTheOptionsTimeout() async throws {
        let silent = try HangingServer()
        defer { silent.close() }
        let options = HAProxyOptions(
            admin: .tcp(host: "127.0.0.1", port: silent.port), backend: "web", servers: ["east"],
            timeout: .milliseconds(300))
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: ActionError.self) {
            try await HAProxyAction().perform(PluginFixture.request(.haproxy(options), kind: .drain))
        }
        let elapsed = start.duration(to: clock.now)
        #expect(error.isTimeout && error.isRetryable)
        #expect(error.description.contains("did not answer `show servers state web` in time"))
        #expect(elapsed >= .milliseconds(290) && elapsed < .seconds(2), "took \(elapsed)")
    }

    @Test func theStepRunnerCancelsASilentAPIAtTheStepTimeout() async throws {
        let silent = try HangingServer()
        defer { silent.close() }
        let options = HAProxyOptions(
            admin: .tcp(host: "127.0.0.1", port: silent.port), backend: "web", servers: ["east"])
        let observer = RecordingObserver()
        let step = PluginFixture.step(.haproxy(options), kind: .drain, timeout: .milliseconds(200), retries: 1)
        let (outcome, elapsed) = try await PluginFixture.timed("haproxy silent API, 2 attempts of 200 ms") {
            try await PluginFixture.runner(observer).run(step, context: Fixture.context())
        }
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 2)
        #expect(outcome.record.error == "timed out after 200ms")
        #expect(elapsed < .seconds(2), "cancellation was not prompt: \(elapsed)")
    }
}
