import FailoverCore
import Testing

/// `Duration(text:)` and `Duration.text`: the config's duration syntax.
@Suite struct DurationTextTests {
    @Test(arguments: [
        ("250ms", 250), ("3s", 3_000), ("10m", 600_000), ("1h", 3_600_000), ("1m30s", 90_000),
        ("1.5s", 1_500), ("0.25s", 250), (" 2s ", 2_000), ("1h2m3s4ms", 3_723_004), ("0s", 0),
    ] as [(String, Int64)])
    func parses(text: String, milliseconds: Int64) {
        #expect(Duration(text: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: ["", "5", "s", "-1s", "1m30", "3 s", "3sec", "1e3ms", "..s", "99999999999999h", "1d"])
    func rejects(text: String) {
        #expect(Duration(text: text) == nil)
    }

    @Test(arguments: [
        (800, "800ms"), (0, "0ms"), (1_000, "1s"), (1_500, "1.5s"), (90_000, "1m30s"), (3_600_000, "1h"),
        (100_500, "1m40.5s"), (3_723_004, "1h2m3.004s"), (61_250, "1m1.25s"),
    ] as [(Int64, String)])
    func textIsShortAndParsesBack(milliseconds: Int64, text: String) {
        let duration = Duration.milliseconds(milliseconds)
        #expect(duration.text == text)
        #expect(Duration(text: duration.text) == duration)
    }
}
