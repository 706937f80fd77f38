import EventLog
import FailoverCore
import Foundation
import XCTest

final class EventStoreTests: XCTestCase {
    private let t0 = Timestamp(milliseconds: 1_767_225_600_000)

    private func event(_ offsetMs: Int64, site: String?, kind: EventKind = .siteStateChanged, message: String = "m") -> Event {
        Event(
            at: Timestamp(milliseconds: t0.milliseconds + offsetMs), controller: "c1", site: site, kind: kind,
            details: .object(["message": .string(message), "n": .number(Double(offsetMs))]))
    }

    func testRecordedEventsComeBackOldestFirstWithIdsAndDetails() throws {
        let store = try EventStore.inMemory()
        let stored = try store.recordEvents([event(0, site: "east"), event(5, site: "west"), event(9, site: "east")])
        XCTAssertEqual(stored.map(\.id), [1, 2, 3])
        let all = try store.events()
        XCTAssertEqual(all, stored)
        XCTAssertEqual(all[1].details["n"]?.numberValue, 5)
        XCTAssertEqual(all[1].at, Timestamp(milliseconds: t0.milliseconds + 5))
    }

    func testQueryFiltersBySiteSinceKindAfterIdAndLimit() throws {
        let store = try EventStore.inMemory()
        for i in 0..<20 { try store.recordEvent(event(Int64(i) * 1_000, site: i % 2 == 0 ? "east" : "west")) }
        try store.recordEvent(event(30_000, site: nil, kind: .controllerStarted))
        XCTAssertEqual(try store.events(EventQuery(site: "east")).count, 10)
        XCTAssertEqual(
            try store.events(EventQuery(since: Timestamp(milliseconds: t0.milliseconds + 15_000))).map(\.id),
            [16, 17, 18, 19, 20, 21])
        XCTAssertEqual(try store.events(EventQuery(kinds: [.controllerStarted])).map(\.id), [21])
        XCTAssertEqual(try store.events(EventQuery(afterID: 19)).map(\.id), [20, 21])
        // The limit keeps the most recent ones, still oldest first.
        XCTAssertEqual(try store.events(EventQuery(site: "west", limit: 3)).map(\.id), [16, 18, 20])
        XCTAssertEqual(try store.eventCount(), 21)
    }

    func testSiteStatusesAndControllerInfoRoundTrip() throws {
        let store = try EventStore.inMemory()
        let quorum = QuorumVerdict(site: "east", verdict: .down, votes: ["c1": .down], needed: 1, quorate: true)
        let result = ProbeResult(
            check: "api", kind: "https", at: t0, diagnosis: .unexpectedStatus(503),
            timings: ProbeTimings(connect: 0.2, total: 1.5), status: 503, error: "HTTP 503")
        let status = SiteStatus(name: "east", region: "r", state: .down, since: t0, quorum: quorum, checks: [result])
        try store.saveSiteStatuses([status], controller: "c1", at: t0)
        var changed = status
        changed.state = .recovering
        try store.saveSiteStatuses([changed], controller: "c1", at: t0.advanced(by: .seconds(1)))
        let saved = try store.siteStatuses()
        XCTAssertEqual(saved.count, 1)
        XCTAssertEqual(saved["east"]?.status, changed)
        XCTAssertEqual(saved["east"]?.updatedAt, t0.advanced(by: .seconds(1)))

        XCTAssertNil(try store.controllerInfo())
        try store.recordControllerStarted(ControllerInfo(id: "c1", listen: "127.0.0.1:7400", startedAt: t0, pid: 42))
        try store.recordControllerStopped(at: t0.advanced(by: .seconds(9)))
        XCTAssertEqual(
            try store.controllerInfo(),
            ControllerInfo(id: "c1", listen: "127.0.0.1:7400", startedAt: t0, stoppedAt: t0.advanced(by: .seconds(9)), pid: 42))
    }

    func testFileStoreSurvivesReopenAndReadOnlyRefusesWrites() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eventlog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = EventStore.path(inStateDirectory: dir.path)
        do {
            let store = try EventStore(path: path)
            try store.recordEvent(event(0, site: "east", message: "kept"))
        }
        let reader = try EventStore(path: path, readOnly: true)
        XCTAssertEqual(try reader.events().map { $0.details["message"]?.stringValue }, ["kept"])
        XCTAssertThrowsError(try reader.recordEvent(event(1, site: "east"))) { error in
            XCTAssertEqual(error as? EventStoreError, .readOnly)
        }
        XCTAssertEqual(try reader.integrityCheck(), ["ok"])
    }

    func testReadOnlyOpenOfMissingOrForeignFileNamesTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eventlog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.sqlite").path
        XCTAssertThrowsError(try EventStore(path: missing, readOnly: true)) { error in
            XCTAssertEqual(error as? EventStoreError, .databaseMissing)
            XCTAssertTrue("\(error)".contains(missing), "\(error)")
        }
        let garbage = dir.appendingPathComponent("garbage.sqlite").path
        try Data(repeating: 0x41, count: 4_096).write(to: URL(fileURLWithPath: garbage))
        XCTAssertThrowsError(try EventStore(path: garbage)) { error in
            XCTAssertEqual(error as? EventStoreError, .notADatabase)
            XCTAssertTrue("\(error)".contains(garbage), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "a read-only open must create nothing")
    }
}
