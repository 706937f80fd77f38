import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// `tcp` checks, and how tcp and http probes classify refused, silent and stopped peers.
@Suite struct ConnectionProbeTests {
    @Test func tcpToAListeningPortPasses() async throws {
        let listener = try TCPListener()
        defer { listener.close() }
        let result = await probe(.tcp(ListenAddress(host: "127.0.0.1", port: listener.port)))
        #expect(result.diagnosis == .ok, "\(result)")
        #expect(result.kind == "tcp")
        #expect(result.error == nil)
        let connect = try #require(result.timings.connect, "a tcp probe reports its connect time")
        #expect(connect <= result.timings.total)
    }

    @Test func tcpToAClosedPortIsRefused() async throws {
        let port = try closedPort()
        let result = await probe(.tcp(ListenAddress(host: "127.0.0.1", port: port)))
        #expect(result.diagnosis == .refused, "\(result)")
        #expect(result.kind == "tcp")
        #expect(result.error?.isEmpty == false)
    }

    @Test func httpToAClosedPortIsRefused() async throws {
        let port = try closedPort()
        let result = await probe(.http(HTTPCheck(url: "http://127.0.0.1:\(port)/health")))
        #expect(result.diagnosis == .refused, "\(result)")
        #expect(result.kind == "http")
        #expect(result.status == nil)
    }

    @Test func tcpToAServerThatNeverAnswersPasses() async throws {
        // A tcp check only connects, and the kernel completes the handshake.
        let server = try HangingServer()
        defer { server.close() }
        let result = await probe(.tcp(ListenAddress(host: "127.0.0.1", port: server.port)), timeout: .milliseconds(300))
        #expect(result.diagnosis == .ok, "\(result)")
    }

    @Test(arguments: ["http", "https"])
    func httpToAServerThatNeverAnswersTimesOutOnTime(scheme: String) async throws {
        let server = try HangingServer()
        defer { server.close() }
        let clock = ContinuousClock()
        let started = clock.now
        let result = await probe(
            .http(HTTPCheck(url: "\(scheme)://127.0.0.1:\(server.port)/health")), timeout: .milliseconds(300))
        let elapsed = started.duration(to: clock.now)
        #expect(result.diagnosis == .timeout, "\(result)")
        #expect(result.kind == scheme)
        // curl's own clock bounds the probe tightly; the wall time also holds the scheduling
        // of this task, which CPU-bound suites running beside it on two cores can delay.
        #expect(result.timings.total < 800)
        #expect(elapsed < .seconds(2), "the probe took \(elapsed) with a 300 ms timeout")
    }

    @Test func aStoppedNginxRefusesConnections() async throws {
        let nginx = try await NginxServer.start([.http])
        defer { nginx.stop() }
        let check = CheckKind.http(HTTPCheck(url: nginx.url(0)))
        #expect(await probe(check).diagnosis == .ok)
        try await Blocking.run { nginx.stop() }
        let result = await probe(check)
        #expect(result.diagnosis == .refused, "\(result)")
        let tcp = await probe(.tcp(ListenAddress(host: "127.0.0.1", port: nginx.port(0))))
        #expect(tcp.diagnosis == .refused, "\(tcp)")
    }
}
