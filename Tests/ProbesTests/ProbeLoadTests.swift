import FailoverCore
import FailoverTesting
import Foundation
import Probes
import Testing

/// Many probes at once share the engine's thread; a cancelled probe ends at once.
@Suite(.nginx) struct ProbeLoadTests {
    let fixture: ProbeFixture
    init() throws { fixture = try ProbeFixture.require() }

    @Test func threeHundredConcurrentProbesPassWithoutAThreadEach() async throws {
        let check = CheckConfig(name: "load", kind: fixture.http(path: "/health"))
        let prober = CheckProber()
        let peakThreads = PeakCounter(processThreadCount())
        let sampler = Task {
            while !Task.isCancelled {
                peakThreads.record(processThreadCount())
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        let results = await withTaskGroup(of: ProbeResult.self) { group in
            for _ in 0..<300 {
                group.addTask {
                    let result = await prober.probe(check, timeout: .seconds(10), at: Timestamp(Date()))
                    peakThreads.record(processThreadCount())
                    return result
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        sampler.cancel()
        await sampler.value
        #expect(results.count == 300)
        let failed = results.filter { $0.diagnosis != .ok }
        #expect(failed.isEmpty, "\(failed.count) of 300 failed, e.g. \(failed.prefix(3))")
        #expect(peakThreads.peak > 1, "/proc/self/status was read")
        #expect(peakThreads.peak < 64, "threads peaked at \(peakThreads.peak)")
    }

    @Test func cancellingAProbeEndsItAtOnce() async throws {
        let server = try HangingServer()
        defer { server.close() }
        let check = CheckConfig(name: "cancel", kind: .http(HTTPCheck(url: "http://127.0.0.1:\(server.port)/health")))
        let clock = ContinuousClock()
        let started = clock.now
        let task = Task { await CheckProber().probe(check, timeout: .seconds(10), at: Timestamp(Date())) }
        let connected = await server.waitForConnections(1, timeout: .seconds(5))
        #expect(connected, "the probe never connected")
        task.cancel()
        let result = await task.value
        let elapsed = started.duration(to: clock.now)
        #expect(elapsed < .seconds(2), "the cancelled probe took \(elapsed)")
        #expect(result.diagnosis != .ok, "\(result)")
    }
}

/// The largest value seen, from any task.
final class PeakCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int

    init(_ initial: Int) { value = initial }

    var peak: Int { lock.withLock { value } }

    func record(_ candidate: Int) { lock.withLock { value = Swift.max(value, candidate) } }
}
