import CurlHTTP
import FailoverCore
import Foundation
import Probes

// probe-bench: runs N HTTP(S) probes through the production CheckProber with a fixed
// concurrency and reports this process's CPU seconds and peak RSS, for
// scripts/bench-probe-cpu.sh (benchmark (a) of the core issue).
//
//   probe-bench --url URL [--url URL ...] [--count 10000] [--concurrency 50]
//               [--ca-file PEM] [--timeout 2s] [--expect-body TEXT]

struct Options {
    var urls: [String] = []
    var count = 10_000
    var concurrency = 50
    var caFile: String?
    var timeout: Duration = .seconds(2)
    var expectBody: String?

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { failNow("\(flag) needs a value") }
            switch flag {
            case "--url": options.urls.append(value)
            case "--count": options.count = Int(value) ?? fail("--count: not a number: \(value)")
            case "--concurrency": options.concurrency = Int(value) ?? fail("--concurrency: not a number: \(value)")
            case "--ca-file": options.caFile = value
            case "--timeout": options.timeout = Duration(text: value) ?? fail("--timeout: not a duration: \(value)")
            case "--expect-body": options.expectBody = value
            default: failNow("unknown option \(flag)")
            }
        }
        if options.urls.isEmpty { failNow("at least one --url is needed") }
        return options
    }
}

func fail<T>(_ message: String) -> T {
    FileHandle.standardError.write(Data("probe-bench: \(message)\n".utf8))
    exit(2)
}

func failNow(_ message: String) -> Never {
    let _: Int = fail(message)
    exit(2)
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

func peakRSSKilobytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let checks = options.urls.enumerated().map { index, url in
    CheckConfig(
        name: "target-\(index)",
        kind: .http(HTTPCheck(url: url, expectBody: options.expectBody, caFile: options.caFile)))
}
let prober = CheckProber()
// Warm-up: libcurl's and OpenSSL's one-time setup (CA parsing is per probe and counted).
_ = await prober.probe(checks[0], timeout: options.timeout, at: Timestamp(Date()))

let cpuBefore = cpuSeconds()
let wallStart = ContinuousClock.now
var failures: [String: Int] = [:]
await withTaskGroup(of: ProbeResult.self) { group in
    var started = 0
    func startNext() {
        let check = checks[started % checks.count]
        started += 1
        group.addTask { await prober.probe(check, timeout: options.timeout, at: Timestamp(Date())) }
    }
    while started < min(options.concurrency, options.count) { startNext() }
    for await result in group {
        if result.diagnosis != .ok { failures[result.diagnosis.label, default: 0] += 1 }
        if started < options.count { startNext() }
    }
}
let wall = wallStart.duration(to: .now)
let cpu = cpuSeconds() - cpuBefore
let failed = failures.values.reduce(0, +)
let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
print(
    String(
        format: "probes=%d failed=%d cpu_seconds=%.3f wall_seconds=%.3f probes_per_second=%.0f peak_rss_mb=%.1f",
        options.count, failed, cpu, seconds, Double(options.count) / seconds, Double(peakRSSKilobytes()) / 1024))
if !failures.isEmpty { print("failures: \(failures.sorted { $0.key < $1.key })") }
exit(failed == 0 ? 0 : 1)
