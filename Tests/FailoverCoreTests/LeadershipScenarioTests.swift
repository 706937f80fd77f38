import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// Golden scenarios of the leadership machine: each folder under `LeadershipScenarios/`
/// replays its timeline and must render exactly its `expected.txt`, and no work may start
/// while the machine may not act.
@Suite struct LeadershipScenarioTests {
    @Test func everyRequiredSituationHasAScenario() throws {
        let names = Set(try resourceCases("LeadershipScenarios").map(\.lastPathComponent))
        let required = [
            "lease-lost-mid-step", "commit-stale", "step-result-from-an-old-term", "restart-as-leader-with-stale-local-state",
            "etcd-unreachable-while-the-lease-is-valid", "two-take-overs-in-a-row", "etcd-restored-from-a-backup",
        ]
        #expect(required.filter { !names.contains($0) } == [])
    }

    @Test(arguments: try resourceCases("LeadershipScenarios"))
    func scenarioReplaysToItsExpectedActions(_ folder: URL) throws {
        let scenario = try LeadershipScenario.load(folder)
        let expected = try String(contentsOf: folder.appendingPathComponent("expected.txt"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let actual = try scenario.replay()
        if ProcessInfo.processInfo.environment["FAILOVERCTL_BLESS"] == "1" {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("LeadershipScenarios/\(folder.lastPathComponent)/expected.txt")
            try (actual + "\n").write(to: source, atomically: true, encoding: .utf8)
        }
        #expect(!actual.contains("VIOLATION"), "\(folder.lastPathComponent): work started while the machine may not act")
        #expect(actual == expected, "\(folder.lastPathComponent) differs (- expected, + actual):\n\(lineDiff(expected: expected, actual: actual))")
    }
}
