import FailoverTesting
import EventLog
import FailoverCore
import Foundation
import XCTest

/// kill -9 of `failoverctl run` while it writes events: the log opens cleanly afterwards
/// and holds every event the controller had committed (all that its API had served).
final class ControllerCrashTests: XCTestCase {
    func testSigkillWhileWritingEventsLosesNothingCommitted() throws {
        var listener: TCPListener? = try TCPListener()
        let port = listener!.port
        var sites: [String: String] = [:]
        for i in 0..<20 {
            sites["s\(i)"] = ControllerProcess.site(
                "s\(i)", interval: "60ms", timeout: "50ms", checks: "- tcp: 127.0.0.1:\(port)")
        }
        let c = try ControllerProcess(sites: sites)
        try c.start()
        try c.waitUntilServing()

        // Flap the port so every site changes state every few rounds.
        var committed: Int64 = 0
        let deadline = Date().addingTimeInterval(30)
        while committed < 400, Date() < deadline {
            if listener == nil { listener = try TCPListener(port: port) } else { listener = nil }
            usleep(90_000)
            if let data = try c.get("/events?limit=1"),
                let last = (try JSONSerialization.jsonObject(with: data) as? [[String: Any]])?.last,
                let id = last["id"] as? Int
            {
                committed = Int64(id)
            }
        }
        XCTAssertGreaterThanOrEqual(committed, 400, "the controller should have written many events\n\(c.logTail())")
        XCTAssertEqual(c.stop(signal: SIGKILL), SIGKILL)

        let store = try EventStore(path: EventStore.path(inStateDirectory: c.stateDir), readOnly: true)
        XCTAssertEqual(try store.integrityCheck(), ["ok"])
        let ids = try store.events(EventQuery(limit: 1_000_000)).compactMap(\.id)
        XCTAssertGreaterThanOrEqual(ids.last ?? 0, committed, "events served before the kill are stored")
        XCTAssertEqual(ids, Array(1...(ids.last ?? 0)), "no gaps: every committed event is there")
        let kinds = Set(try store.events(EventQuery(limit: 1_000_000)).map(\.kind))
        XCTAssertTrue(kinds.contains(.siteStateChanged))
        XCTAssertFalse(kinds.contains(.controllerStopped), "a killed controller writes no stop event")
    }
}
