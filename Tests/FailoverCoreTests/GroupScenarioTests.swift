import FailoverTesting
import Foundation
import Testing

/// Golden scenarios of the group state machine: each folder under `GroupScenarios/`
/// replays its timeline on a `GroupFSM` and must render exactly its `expected.txt`.
@Suite struct GroupScenarioTests {
    @Test func everyRequiredSituationHasAScenario() throws {
        let names = Set(try resourceCases("GroupScenarios").map(\.lastPathComponent))
        let required = [
            "primary-down-fails-over-to-first-standby", "first-standby-down-takes-next", "first-standby-lagging-takes-next",
            "no-eligible-target", "flapping-primary-inside-cooldown", "paused-group", "manual-failover-mode",
            "drill-without-failback", "drill-with-failback", "step-fails-abort", "step-fails-continue", "veto-by-pre-hook",
            "resume-from-stored-step",
        ]
        #expect(required.filter { !names.contains($0) } == [])
    }

    @Test(arguments: try resourceCases("GroupScenarios"))
    func scenarioReplaysToItsExpectedEffects(_ folder: URL) throws {
        let scenario = try GroupScenario.load(folder)
        #expect(!scenario.description.isEmpty)
        let expected = try String(contentsOf: folder.appendingPathComponent("expected.txt"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let actual = try scenario.replay()
        if ProcessInfo.processInfo.environment["FAILOVERCTL_BLESS"] == "1" {
            // Regenerates the source folder's expected output, to be read and reviewed in the diff.
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("GroupScenarios/\(folder.lastPathComponent)/expected.txt")
            try (actual + "\n").write(to: source, atomically: true, encoding: .utf8)
        }
        #expect(actual == expected, "\(folder.lastPathComponent) differs (- expected, + actual):\n\(lineDiff(expected: expected, actual: actual))")
    }
}
