import FailoverTesting
import Foundation
import XCTest

/// The controller's HTTP API on the wire, through curl: answers, errors, limits.
final class APITests: XCTestCase {
    private func curl(_ c: ControllerProcess, _ args: [String]) throws -> (code: String, body: String) {
        let out = try c.run(
            ["/usr/bin/curl", "-s", "--max-time", "5", "-o", "-", "-w", "\n%{http_code}"] + args, direct: true)
        let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }

    func testEndpointsErrorsAndLimits() throws {
        let listener = try TCPListener()
        let c = try ControllerProcess(sites: [
            "a": ControllerProcess.site("a", fall: 3, rise: 2, checks: "- tcp: 127.0.0.1:\(listener.port)")
        ])
        try c.start()
        try c.waitUntilServing()
        let base = "http://127.0.0.1:\(c.port)"
        let health = try curl(c, ["\(base)/healthz"])
        XCTAssertEqual(health.code, "200")
        XCTAssertTrue(health.body.contains("\"schedule\""), health.body)
        XCTAssertEqual(try curl(c, ["\(base)/status"]).code, "200")
        XCTAssertEqual(try curl(c, ["\(base)/events?site=a&since=1m&limit=5"]).code, "200")

        let missing = try curl(c, ["\(base)/nope"])
        XCTAssertEqual(missing.code, "404")
        XCTAssertTrue(missing.body.contains("/healthz"), missing.body)
        XCTAssertEqual(try curl(c, ["-X", "POST", "\(base)/status"]).code, "405")
        let badSince = try curl(c, ["\(base)/events?since=soon"])
        XCTAssertEqual(badSince.code, "400")
        XCTAssertTrue(badSince.body.contains("since"), badSince.body)
        XCTAssertEqual(try curl(c, ["\(base)/events?after_id=x"]).code, "400")
        let head = try curl(c, ["-I", "\(base)/status"])
        XCTAssertTrue(head.body.hasPrefix("HTTP/1.1 200"), head.body)
        let huge = String(repeating: "a", count: 20_000)
        XCTAssertEqual(try curl(c, ["-H", "X-Big: \(huge)", "\(base)/status"]).code, "431")

        // Many clients at once are all answered.
        let urls = Array(repeating: "\(base)/status", count: 20)
        let parallel = try c.run(
            ["/usr/bin/curl", "-s", "--parallel", "--parallel-max", "20", "--max-time", "10", "-w", "%{http_code}\n"]
                + urls.flatMap { ["-o", "/dev/null", $0] }, direct: true)
        XCTAssertEqual(parallel.stdout.split(separator: "\n").filter { $0 == "200" }.count, 20, parallel.stdout)
        XCTAssertEqual(c.stop(), 0, c.logTail())
    }
}
