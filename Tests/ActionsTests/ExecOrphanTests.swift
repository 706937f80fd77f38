import FailoverTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A controller's commands never outlive it: `exec-orphan-helper` runs an exec step
/// through the exec plugin, the test kills the helper with SIGKILL, and the command's whole
/// process group (guard, command, its background child) is gone within 100 ms.
@Suite struct ExecOrphanTests {
    static let runs = 5
    static let bound = Duration.milliseconds(100)

    @Test func killingTheParentKillsTheCommandsWholeGroupWithin100ms() throws {
        var worst = Duration.zero
        for run in 1...Self.runs {
            let gone = try killedWhileRunning()
            worst = max(worst, gone)
            print("exec-orphan run \(run): group gone \(gone) after the helper's death")
            #expect(gone < Self.bound, "run \(run): the group outlived its parent by \(gone)")
        }
        print("exec-orphan: worst \(worst) over \(Self.runs) runs (bound \(Self.bound))")
    }

    /// One run: the time from the helper's reaping to the last live member of the group.
    private func killedWhileRunning() throws -> Duration {
        let dir = try Scratch()
        let ready = try Rendezvous(in: dir.url.path)
        let helper = try ChildProcess(
            [try BuildProducts.executable("exec-orphan-helper"), "sleep 1000 & echo $$ $! > '\(ready.path)'; wait"],
            environment: ProcessInfo.processInfo.environment, outputPath: dir.path("helper.log"))
        let pids = try ready.line().split(separator: " ").compactMap { pid_t($0) }
        try #require(pids.count == 2)
        let command = try #require(ProcessTable.entry(pids[0]))
        let guardian = try #require(ProcessTable.entry(command.parent))
        #expect(guardian.parent == helper.pid && guardian.group == command.parent, "the guard leads the group")
        #expect(ProcessTable.entry(pids[1])?.group == command.group)
        #expect(ProcessTable.liveMembers(ofGroup: command.group).count == 3)

        kill(helper.pid, SIGKILL)
        #expect(helper.wait() == SIGKILL)
        let gone = ProcessTable.timeUntilEmpty(command.group)
        try #require(gone != nil, "left in the group: \(ProcessTable.liveMembers(ofGroup: command.group))")
        return gone!
    }
}
