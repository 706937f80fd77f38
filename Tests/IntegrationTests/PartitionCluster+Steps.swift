import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One line of the partition tests' action log:
/// `MS START|END|KILLED STEP SITE EPOCH TOKEN CONTROLLER PID`.
struct StepLine: Equatable {
    var ms: Int64
    var event: String
    var step: String
    var site: String
    var epoch: Int
    /// `$FAILOVER_TOKEN`, `-` when the controller set none.
    var token: String
    var controller: String
    var pid: Int32

    init?(_ text: Substring) {
        let f = text.split(separator: " ").map(String.init)
        guard f.count == 8, let ms = Int64(f[0]), let epoch = Int(f[4]), let pid = Int32(f[7]) else { return nil }
        (self.ms, event, step, site, self.epoch, token, controller, self.pid) = (
            ms, f[1], f[2], f[3], epoch, f[5], f[6], pid
        )
    }

    static func parse(file: String) -> [StepLine] {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap(StepLine.init)
    }
}

/// One run of one step by one controller: START to END or KILLED, or to when its process
/// was seen gone, or still running (`end` nil).
struct StepInterval: Equatable {
    var controller: String
    var step: String
    var epoch: Int
    var token: String
    var start: Int64
    var end: Int64?
    /// `END`, `KILLED`, `gone` (ended without a line) or `running`.
    var ending: String

    /// The intervals of `lines`, a START matched with the next END/KILLED of its pid.
    static func from(_ lines: [StepLine], processEnds: [Int32: Int64]) -> [StepInterval] {
        lines.enumerated().compactMap { index, line in
            guard line.event == "START" else { return nil }
            let close = lines[(index + 1)...].first {
                $0.pid == line.pid && ($0.event == "END" || $0.event == "KILLED")
            }
            let end = close?.ms ?? processEnds[line.pid]
            let ending = close?.event ?? (end == nil ? "running" : "gone")
            return StepInterval(
                controller: line.controller, step: line.step, epoch: line.epoch, token: line.token, start: line.ms,
                end: end, ending: ending)
        }
    }

    /// How long this interval and `other` ran at the same time, in ms (`now` ends an open one).
    func overlap(with other: StepInterval, now: Int64) -> Int64 {
        max(0, min(end ?? now, other.end ?? now) - max(start, other.start))
    }
}

/// Watches the step processes of an action log: every 10 ms it reads the log and, for
/// each START whose pid logged no END or KILLED, notes when `/proc/PID` is gone or a
/// zombie. A step killed with SIGKILL (or whose controller died) ends there.
final class StepProcessWatcher: @unchecked Sendable {
    private let log: String
    private let lock = NSLock()
    private var gone: [Int32: Int64] = [:]
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    init(log: String) {
        self.log = log
        let thread = Thread { [self] in
            while !lock.withLock({ stopped }) {
                scan()
                usleep(10_000)
            }
            finished.signal()
        }
        thread.name = "step-process-watcher"
        thread.start()
    }

    /// When each ended step process was seen gone (ms since 1970), by pid.
    func ends() -> [Int32: Int64] { lock.withLock { gone } }

    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { finished.wait() }
    }

    private func scan() {
        var open: [Int32: Bool] = [:]
        for line in StepLine.parse(file: log) {
            open[line.pid] = line.event == "START"
        }
        let seen = lock.withLock { gone }
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        for (pid, running) in open where running && seen[pid] == nil && !Self.alive(pid) {
            lock.withLock { gone[pid] = now }
        }
    }

    /// Whether `pid` exists and is no zombie (`/proc/PID/stat`'s state field).
    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }
}
