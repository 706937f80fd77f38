import FailoverConfig
import FailoverCore
import Foundation
import Testing

/// Every folder under `BadConfigs/` is one kind of bad configuration: loading its
/// `failoverctl.yaml` must fail with exactly the line in its `expected.txt`.
@Suite struct BadConfigTests {
    static let loader = ConfigLoader(environment: ["PATH": "/usr/bin"], hostName: "test-host")

    @Test func thereAreAtLeastTwelveCases() throws {
        #expect(try resourceCases("BadConfigs").count >= 12)
    }

    @Test(arguments: try resourceCases("BadConfigs"))
    func badConfigGivesItsExpectedLine(_ dir: URL) throws {
        let expected = try String(contentsOf: dir.appendingPathComponent("expected.txt"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "$DIR", with: dir.path)
        #expect(!expected.contains("\n"), "expected.txt holds one line")
        let config = dir.appendingPathComponent("failoverctl.yaml").path
        let error = #expect(throws: ConfigError.self) { try Self.loader.load(path: config) }
        #expect(error.map { String(describing: $0) } == expected, "\(dir.lastPathComponent)")
    }
}
