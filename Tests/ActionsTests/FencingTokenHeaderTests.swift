import Actions
import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// The HTTP plugins a target can fence on send the run's token, `X-Failover-Token:
/// EPOCH.TERM`, on every call: Cloudflare against its contract server, PowerDNS through a
/// recording proxy in front of a real PowerDNS server.
@Suite struct FencingTokenHeaderTests {
    /// Epoch 7, term 42: the header must read `7.42`.
    private static let context = RunContext(
        group: "web", incident: "web-7", kind: .failover, from: "east", to: "west", epoch: 7, term: 42)

    private func request(_ spec: ActionSpec) -> ActionRequest {
        ActionRequest(context: Self.context, step: PluginFixture.step(spec, kind: .dns), timeout: .seconds(10))
    }

    @Test func cloudflareCallsCarryTheToken() async throws {
        let zone = CloudflareActionTests.zone
        let contract = try CloudflareContract(
            token: CloudflareActionTests.token, zone: zone,
            records: [.init(id: "r1", name: "app.example.com", type: "A", content: "203.0.113.7", ttl: 60)],
            pools: ["pool-1": [.init(name: "east", address: "203.0.113.7", enabled: false, weight: 1)]])
        let options = CloudflareOptions(
            api: contract.api, token: CloudflareActionTests.token,
            record: .init(zoneID: zone, name: "app.example.com", content: "203.0.113.20", ttl: nil),
            pool: .init(accountID: "acct", poolID: "pool-1", origin: "east", enabled: true))
        _ = try await CloudflareAction().perform(request(.cloudflare(options)))
        let requests = contract.server.requests
        #expect(requests.map(\.method) == ["GET", "PATCH", "GET", "PATCH"], "\(contract.calls)")
        #expect(requests.allSatisfy { $0.headers["x-failover-token"] == "7.42" }, "\(requests.map(\.headers))")
    }

    @Test func powerDNSCallsCarryTheToken() async throws {
        let server = try await PowerDNSServer.start()
        let proxy = try ContractServer(handler: PowerDNSProxy.forward(to: server))
        let options = PowerDNSOptions(
            api: proxy.url(""), key: server.apiKey, zone: PowerDNSServer.zone, name: PowerDNSServer.name, type: .a,
            ttl: .seconds(30), content: "127.0.0.2", verifyDNS: nil, verifyTimeout: .seconds(5))
        let report = try await PowerDNSAction().perform(request(.powerdns(options)))
        #expect(report.changed.first?.hasPrefix("set app.example.test. A to 127.0.0.2") == true)
        #expect(proxy.requests.map(\.method) == ["GET", "PATCH"])
        #expect(proxy.requests.allSatisfy { $0.headers["x-failover-token"] == "7.42" })
        #expect(try server.dig() == ["127.0.0.2"], "PowerDNS itself accepted the change")
    }
}
