import FailoverTesting
import Foundation
import XCTest

/// A closed TCP port takes a site down after exactly `fall` rounds; listening again
/// brings it back after exactly `rise`, and the log holds each transition's probes.
final class TCPTransitionTests: XCTestCase {
    func testClosedPortGoesDownAfterFallAndUpAfterRise() throws {
        var listener = try TCPListener()
        let port = listener.port
        let c = try ControllerProcess(sites: [
            "db": ControllerProcess.site(
                "db", interval: "300ms", timeout: "200ms", fall: 3, rise: 2, checks: "- name: pg\n  tcp: 127.0.0.1:\(port)")
        ])
        try c.start()
        try c.waitUntilServing()
        try c.waitFor("db up") { try c.siteState("db") == "up" }
        listener.close()
        try c.waitFor("db down") { try c.siteState("db") == "down" }
        listener = try TCPListener(port: port)
        try c.waitFor("db up again") { try c.siteState("db") == "up" }
        XCTAssertEqual(c.stop(), 0, c.logTail())
        listener.close()

        let t = try Transitions(c, site: "db")
        let down = t.assertWentDown(fall: 3, interval: 300, failing: "pg", diagnosis: "refused")
        XCTAssertEqual(down?.result("pg")?["kind"] as? String, "tcp")
        XCTAssertNotNil(down?.result("pg")?["error"] as? String)
        t.assertCameBack(rise: 2)
        XCTAssertTrue(c.logTail(400).contains("site db is down: 3 failed rounds in a row (pg: refused)"), c.logTail())
    }
}
