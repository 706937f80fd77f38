import FailoverCore
import Foundation
import Testing

/// `ping` checks over ICMP on loopback (the tests run as root, so raw sockets work).
@Suite struct PingProbeTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func pingingLoopbackPasses(host: String) async {
        let result = await probe(.ping(host: host), timeout: .seconds(2))
        #expect(result.diagnosis == .ok, "\(result)")
        #expect(result.kind == "ping")
        #expect(result.timings.total > 0)
        #expect(result.error == nil)
    }

    @Test func pingingLoopbackManyTimesAtOncePasses() async {
        let results = await withTaskGroup(of: ProbeResult.self) { group in
            for index in 0..<20 {
                group.addTask { await probe(.ping(host: index.isMultiple(of: 2) ? "127.0.0.1" : "::1")) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 20)
        #expect(results.allSatisfy { $0.diagnosis == .ok }, "\(results.filter { $0.diagnosis != .ok })")
    }

    @Test func pingingAnUnknownNameIsADNSFailure() async {
        let clock = ContinuousClock()
        let started = clock.now
        let result = await probe(.ping(host: "no-such-host.invalid"), timeout: .seconds(3))
        #expect(result.diagnosis == .dnsFailure, "\(result)")
        #expect(result.kind == "ping")
        #expect(result.error?.isEmpty == false)
        #expect(started.duration(to: clock.now) < .seconds(4), "a probe returns within its timeout")
    }
}
