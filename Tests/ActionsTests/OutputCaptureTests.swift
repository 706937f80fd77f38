import FailoverCore
import Testing

@testable import Actions

/// What is kept of a command's output, and how report lines are read.
@Suite struct OutputCaptureTests {
    private func capture(_ chunks: [String], marker: String = "") -> OutputCapture {
        var capture = OutputCapture(marker: marker)
        for chunk in chunks { Array(chunk.utf8).withUnsafeBytes { capture.append($0) } }
        capture.finish()
        return capture
    }

    @Test func keepsTheLastFourKiBAndTheLastLine() {
        let capture = capture([String(repeating: "a", count: 10_000), "\nlast li", "ne\n\n  \n"])
        #expect(capture.tail.utf8.count == OutputCapture.tailLimit)
        #expect(capture.tail.hasSuffix("last line\n\n  \n"))
        #expect(capture.lastLine == "last line")
        #expect(capture.total == 10_000 + 15)
    }

    @Test func aLastLineWithoutNewlineCountsAndLongLinesKeepTheirStart() {
        #expect(capture(["one\ntwo"]).lastLine == "two")
        let long = capture(["start" + String(repeating: "z", count: 5_000)])
        #expect(long.lastLine.hasPrefix("start"))
        #expect(long.lastLine.utf8.count == OutputCapture.lineLimit)
    }

    @Test func collectsMarkedLinesAcrossChunks() {
        let capture = capture(
            ["x\nFAILOVER_REP", "ORT lag_bytes=1\nFAILOVER_REPORTX\n"], marker: ExecAction.reportMarker)
        #expect(capture.marked == ["FAILOVER_REPORT lag_bytes=1"])
    }

    @Test func reportLinesAcceptBareTTLSecondsAndIgnoreNonsense() {
        let report = ExecAction.parseReport([
            "FAILOVER_REPORT dns_ttl=300", "FAILOVER_REPORT lag_seconds=-1", "FAILOVER_REPORT novalue",
            "FAILOVER_REPORT changed=  moved www to 192.0.2.7  ",
        ])
        #expect(report.dnsTTL == .seconds(300))
        #expect(report.lag == nil)
        #expect(report.changed == ["moved www to 192.0.2.7"])
    }
}
