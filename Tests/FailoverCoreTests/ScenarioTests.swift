import FailoverTesting
import Foundation
import Testing

/// Golden scenarios: each folder under `Scenarios/` replays its probe timeline on the site
/// FSM and must produce exactly its `expected.txt`.
@Suite struct ScenarioTests {
    @Test func thereAreAtLeastEightScenarios() throws {
        #expect(try resourceCases("Scenarios").count >= 8)
    }

    @Test(arguments: try resourceCases("Scenarios"))
    func scenarioReplaysToItsExpectedTransitions(_ folder: URL) throws {
        let scenario = try SiteScenario.load(folder)
        #expect(!scenario.description.isEmpty)
        let expected = try String(contentsOf: folder.appendingPathComponent("expected.txt"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let actual = try scenario.replay()
        #expect(actual == expected, "\(folder.lastPathComponent) differs (- expected, + actual):\n\(lineDiff(expected: expected, actual: actual))")
    }
}
