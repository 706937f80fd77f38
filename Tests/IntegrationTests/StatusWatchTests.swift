import FailoverTesting
import Foundation
import XCTest

/// `status --watch` redraws until interrupted; bad combinations are refused.
final class StatusWatchTests: XCTestCase {
    func testWatchRedrawsAndRefusesBadCombinations() throws {
        let listener = try TCPListener()
        let c = try ControllerProcess(sites: ["a": ControllerProcess.site("a", checks: "- tcp: 127.0.0.1:\(listener.port)")])
        try c.start()
        try c.waitUntilServing()
        let binary = try BuildProducts.executable("failoverctl")
        let watch = try c.run(
            ["/usr/bin/timeout", "1.4", binary, "status", "--watch", "500ms", "--config", c.configPath], direct: true)
        XCTAssertEqual(watch.status, 124, "runs until interrupted")
        let reports = watch.stdout.components(separatedBy: "controller it-1, live").count - 1
        XCTAssertGreaterThanOrEqual(reports, 2, watch.stdout)
        XCTAssertTrue(watch.stdout.contains("every 500ms, Ctrl-C to stop"), watch.stdout)
        XCTAssertFalse(watch.stdout.contains("\u{1B}[1;"), "no colour when not on a terminal")
        XCTAssertNotEqual(try c.run(["status", "--watch", "50ms"]).status, 0)
        XCTAssertNotEqual(try c.run(["status", "--watch", "1s", "--json"]).status, 0)
        XCTAssertEqual(c.stop(), 0, c.logTail())
        listener.close()
    }
}
