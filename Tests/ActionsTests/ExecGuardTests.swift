import FailoverCore
import FailoverTesting
import Foundation
import Testing

@testable import Actions

#if canImport(Glibc)
    import Glibc
#endif

/// Commands run under their guard process, against real children: the group leader is the
/// guard, the command is its child, and what a caller of `Subprocess` sees (pid, stop,
/// termination, output) is what it saw before the guard existed.
@Suite struct ExecGuardTests {
    /// Starts `sh -c script`; the script signals readiness by writing to `ready.path`.
    private func spawn(_ script: String) throws -> Subprocess {
        try Subprocess.spawn(
            ["/bin/sh", "-c", script], environment: ProcessInfo.processInfo.environment, reportMarker: "")
    }

    /// The pids a script wrote as `$$ $!`: the command and its background child.
    private func pids(_ line: String) throws -> (command: pid_t, background: pid_t) {
        let parts = line.split(separator: " ").compactMap { pid_t($0) }
        try #require(parts.count == 2, "expected two pids, got \(line)")
        return (parts[0], parts[1])
    }

    @Test func theGuardLeadsTheGroupAndTheCommandAndItsChildrenAreInIt() async throws {
        let dir = try Scratch()
        let ready = try Rendezvous(in: dir.url.path)
        let child = try spawn("sleep 1000 & echo $$ $! > '\(ready.path)'; wait")
        let (command, background) = try pids(try await ready.awaitLine())
        let guardian = try #require(ProcessTable.entry(child.pid))
        #expect(guardian.parent == getpid() && guardian.group == child.pid, "the guard is ours and leads its group")
        let entry = try #require(ProcessTable.entry(command))
        #expect(entry.parent == child.pid && entry.group == child.pid, "the command is the guard's child, in its group")
        #expect(ProcessTable.entry(background)?.group == child.pid)
        #expect(child.pid != getpgrp())
        child.stop(grace: .seconds(5))
        _ = await child.wait()
    }

    @Test func aCancelledExecKillsItsBackgroundChildrenToo() async throws {
        let dir = try Scratch()
        let ready = try Rendezvous(in: dir.url.path)
        let script = "sleep 1000 & echo $$ $! > '\(ready.path)'; wait"
        let task = Task { try await ExecAction().perform(Fixture.exec(Fixture.sh(script), timeout: .seconds(120))) }
        let (command, background) = try pids(try await ready.awaitLine())
        let group = try #require(ProcessTable.entry(command)?.group)
        #expect(ProcessTable.liveMembers(ofGroup: group).count == 3, "guard, sh and sleep")
        task.cancel()
        let error = try await #require(throws: ActionError.self) { try await task.value }
        #expect(error.isTimeout)
        let gone = ProcessTable.timeUntilEmpty(group)
        #expect(gone != nil, "left in the group: \(ProcessTable.liveMembers(ofGroup: group))")
        #expect(ProcessTable.entry(background)?.live != true)
    }

    @Test func aScriptsTermTrapRunsOnStopAndItsExitIsReported() async throws {
        let dir = try Scratch()
        let ready = try Rendezvous(in: dir.url.path)
        let child = try spawn(
            "trap 'echo trapped; exit 3' TERM; sleep 1000 & echo $$ $! > '\(ready.path)'; wait")
        _ = try pids(try await ready.awaitLine())
        child.stop(grace: .seconds(1))
        let exit = await child.wait()
        // A SIGKILL (the guard's death, or the one after the grace) would read signaled(9).
        #expect(exit.termination == .exited(3), "the trap's exit status")
        #expect(exit.stdout.lastLine == "trapped")
        #expect(exit.stopped)
        // sleep gets the SIGTERM too; if it came while sh's forked child still had the
        // trap's handler (before its exec of sleep), the SIGKILL after the grace ends it.
        #expect(ProcessTable.timeUntilEmpty(child.pid) != nil, "left: \(ProcessTable.liveMembers(ofGroup: child.pid))")
    }

    @Test(arguments: [
        ("exit 0", Termination.exited(0)), ("exit 3", .exited(3)), ("exit 255", .exited(255)),
        ("kill -TERM $$", .signaled(SIGTERM)), ("kill -KILL $$", .signaled(SIGKILL)),
        ("kill -USR1 $$", .signaled(SIGUSR1)), ("ulimit -c 0; kill -SEGV $$", .signaled(SIGSEGV)),
        ("kill -PIPE $$", .signaled(SIGPIPE)), ("kill -INT $$", .signaled(SIGINT)),
    ])
    func theCommandsOwnTerminationIsReported(script: String, termination: Termination) async throws {
        let exit = try await spawn(script).wait()
        #expect(exit.termination == termination, "\(script)")
        #expect(!exit.stopped)
    }

    @Test func outputIsCapturedAndSignalsAreAtTheirDefaultsInTheCommand() async throws {
        // The signal state the command was started with (exec keeps it): nothing ignored,
        // nothing blocked, although the guard ignores TERM and blocks CHLD.
        let script = "echo oops >&2; exec grep -E '^Sig(Ign|Blk)' /proc/self/status"
        let exit = try await spawn(script).wait()
        #expect(exit.stdout.tail == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n")
        #expect(exit.stderr.lastLine == "oops")
        #expect(exit.termination == .exited(0))
    }

    @Test func neitherTheCommandNorTheGuardHoldsAnotherDescriptorOfOurs() async throws {
        // Not close-on-exec: only the guard's closing of every other descriptor keeps it out.
        var leaked: [Int32] = [-1, -1]
        #expect(pipe(&leaked) == 0)
        defer { leaked.forEach { close($0) } }
        // spawn returns after the command's execve and the guard's set-up: both are settled.
        let child = try Subprocess.spawn(
            ["/bin/sleep", "1000"], environment: ProcessInfo.processInfo.environment, reportMarker: "")
        let descriptors = { (pid: pid_t) in
            try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap { Int($0) }.sorted()
        }
        let link = { (pid: pid_t, fd: Int) in
            try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")
        }
        // 0-2 /dev/null, 3 the lifeline, 5 the command's pidfd (4 was the status pipe).
        #expect(try descriptors(child.pid) == [0, 1, 2, 3, 5], "the guard's (\(leaked) leaked?)")
        #expect(try [0, 1, 2].map { try link(child.pid, $0) } == ["/dev/null", "/dev/null", "/dev/null"])
        #expect(try link(child.pid, 5) == "anon_inode:[pidfd]")
        #expect(try String(contentsOfFile: "/proc/\(child.pid)/comm", encoding: .utf8) == "failover-guard\n")
        let command = try #require(ProcessTable.children(of: child.pid).first)
        #expect(try descriptors(command) == [0, 1, 2], "the command has stdin, stdout and stderr only")
        #expect(try link(command, 0) == "/dev/null")
        #expect(try link(command, 1).hasPrefix("pipe:") && link(command, 2).hasPrefix("pipe:"))
        child.stop(grace: .seconds(5))
        #expect(await child.wait().termination == .signaled(SIGTERM))
    }

    @Test func aBareNameIsFoundOnPathAndAMissingOrNonExecutableOneCannotStart() async throws {
        let exit = try await Subprocess.spawn(
            ["sh", "-c", "exit 4"], environment: ["PATH": "/nonexistent:/bin:/usr/bin"], reportMarker: ""
        ).wait()
        #expect(exit.termination == .exited(4))
        let missing = #expect(throws: ActionError.self) {
            try Subprocess.spawn(["no-such-failover-tool"], environment: ["PATH": "/bin"], reportMarker: "")
        }
        #expect(missing?.description.contains("no-such-failover-tool: No such file or directory") == true)
        let dir = try Scratch()
        FileManager.default.createFile(atPath: dir.path("tool"), contents: Data("#!/bin/sh\n".utf8))
        let denied = #expect(throws: ActionError.self) {
            try Subprocess.spawn(["tool"], environment: ["PATH": dir.url.path], reportMarker: "")
        }
        #expect(denied?.description.contains("tool: Permission denied") == true)
        // Written with a slash, the path goes to execve and its error comes back from the command.
        let direct = #expect(throws: ActionError.self) {
            try Subprocess.spawn([dir.path("tool")], environment: [:], reportMarker: "")
        }
        #expect(direct?.description.contains("Permission denied") == true)
    }
}
