import FailoverCore
import FailoverTesting
import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// kill -9 of `failoverctl run` in the middle of an `exec` step: the step's whole process
/// group (its guard, the script and the script's background child) is gone within 100 ms
/// of the controller's death, so a next leader's re-run of the step never overlaps it.
final class OrphanChildTests: XCTestCase {
    static let runs = 10
    static let bound = Duration.milliseconds(100)

    func testKillingTheControllerDuringAnExecStepKillsTheStepsGroupWithin100ms() throws {
        let listener = try TCPListener()
        var worst = Duration.zero
        for run in 1...Self.runs {
            let gone = try killedDuringStep(checking: listener.port, run: run)
            worst = max(worst, gone)
            XCTAssertLessThan(gone, Self.bound, "run \(run): the step's group outlived the controller by \(gone)")
        }
        print(
            "orphan-child: worst \(worst) from the controller's death to its step's group gone, over \(Self.runs) runs")
    }

    /// One run: a drill whose only step is a long script; the controller killed once the
    /// script has started; the time from its reaping to the group's last live member.
    private func killedDuringStep(checking port: Int, run: Int) throws -> Duration {
        let ready = try StepRendezvous()
        let c = try Self.controller(
            port: port, script: "sleep 1000 & echo START $$ $! $FAILOVER_TOKEN > '\(ready.path)'; wait")
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("both sites up") { try c.siteState("east") == "up" && c.siteState("west") == "up" }
        let post = try c.run(
            [
                "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H",
                "Authorization: Bearer \(FailoverEndToEndTests.token)", "http://127.0.0.1:\(c.port)/groups/web/drill",
            ],
            direct: true)
        XCTAssertEqual(post.stdout, "202", c.logTail())

        let start = try ready.line(within: .seconds(15)).split(separator: " ").map(String.init)
        XCTAssertEqual(start.count, 4, "\(start)")
        let command = try XCTUnwrap(start.count == 4 ? pid_t(start[1]) : nil)
        let entry = try XCTUnwrap(StepProcesses.entry(command))
        let guardian = try XCTUnwrap(StepProcesses.entry(entry.parent))
        XCTAssertEqual(guardian.parent, c.pid, "the step's guard is the controller's child")
        XCTAssertEqual(guardian.group, entry.parent, "the guard leads the step's group")
        XCTAssertEqual(StepProcesses.liveMembers(ofGroup: entry.group).count, 3, "guard, sh and sleep")

        XCTAssertEqual(c.stop(signal: SIGKILL), SIGKILL)
        let gone = StepProcesses.timeUntilEmpty(entry.group)
        let left = StepProcesses.liveMembers(ofGroup: entry.group)
        print(
            "orphan-child run \(run): step group gone \(gone.map { "\($0)" } ?? "never") after the controller's death")
        XCTAssertNotNil(gone, "left in the group: \(left)")
        for pid in left { kill(pid, SIGKILL) }
        try assertTheStepStartedWithToken(start[3], c)
        return gone ?? .seconds(3)
    }

    /// The step's `step_started` event carries the token the script saw as `FAILOVER_TOKEN`.
    private func assertTheStepStartedWithToken(_ token: String, _ c: ControllerProcess) throws {
        let token = try XCTUnwrap(FencingToken(token), "FAILOVER_TOKEN \(token) is EPOCH.TERM")
        XCTAssertEqual(token.epoch, 1)
        let events = try c.run(["events", "--json"])
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]])
        let started = list.first { $0["kind"] as? String == "step_started" }
        let details = try XCTUnwrap(started?["details"] as? [String: Any], events.stdout)
        XCTAssertEqual(details["token"] as? String, token.description)
    }

    /// A controller with two sites probed on `port` and a group `web` whose plan is one
    /// `exec` step running `sh -c script`.
    private static func controller(port: Int, script: String) throws -> ControllerProcess {
        // A YAML double-quoted string, and `$$` is the config's escape of a literal `$`.
        let quoted = script.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "$$", with: "$$$$")
        let groups = """
            groups:
              - name: web
                primary: east
                standbys: [west]
                plan:
                  - exec: ["/bin/sh", "-c", "\(quoted)"]
                    timeout: 10m
                    retries: 0
            """
        let site = { (name: String) in ControllerProcess.site(name, checks: "- tcp: 127.0.0.1:\(port)") }
        return try ControllerProcess(
            sites: ["east": site("east"), "west": site("west")], extra: groups, apiToken: FailoverEndToEndTests.token)
    }
}

/// What /proc says about a step's processes (not the test's children: nothing to wait on).
private enum StepProcesses {
    struct Entry {
        var state: Character
        var parent: pid_t
        var group: pid_t
        var live: Bool { state != "Z" && state != "X" }
    }

    static func entry(_ pid: pid_t) -> Entry? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0, let close = buffer[0..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = String(decoding: buffer[(close + 1)..<count], as: UTF8.self).split(separator: " ")
        guard fields.count > 3, let state = fields[0].first, let parent = pid_t(fields[1]), let group = pid_t(fields[2])
        else { return nil }
        return Entry(state: state, parent: parent, group: group)
    }

    static func liveMembers(ofGroup group: pid_t) -> [pid_t] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var members: [pid_t] = []
        while let item = readdir(dir) {
            let name = withUnsafeBytes(of: item.pointee.d_name) {
                String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
            }
            guard let pid = pid_t(name), let entry = entry(pid), entry.group == group, entry.live else { continue }
            members.append(pid)
        }
        return members
    }

    /// Scans /proc in a tight loop from now until no live member of `group` is left.
    static func timeUntilEmpty(_ group: pid_t, bound: Duration = .seconds(3)) -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < bound {
            if liveMembers(ofGroup: group).isEmpty { return ContinuousClock.now - start }
        }
        return nil
    }
}

/// A FIFO the step's script writes its START line to; the test awaits it with poll().
private final class StepRendezvous {
    let path: String
    private let fd: Int32

    init() throws {
        path = FailoverEndToEndTests.temporaryFile("step-started")
        guard mkfifo(path, 0o600) == 0 else {
            throw ControllerProcess.Failure("mkfifo \(path): \(String(cString: strerror(errno)))")
        }
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ControllerProcess.Failure("open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    func line(within bound: Duration) throws -> String {
        let deadline = ContinuousClock.now + bound
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while !text.contains(UInt8(ascii: "\n")) {
            let left = ContinuousClock.now.duration(to: deadline).components
            let milliseconds = Int32(max(0, left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000))
            guard milliseconds > 0 else {
                throw ControllerProcess.Failure("the step wrote no START line within \(bound)")
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { text += buffer[0..<count] } else if count == 0 { break }
        }
        return String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
