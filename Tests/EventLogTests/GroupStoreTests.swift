import EventLog
import FailoverCore
import Foundation
import XCTest

final class GroupStoreTests: XCTestCase {
    private let t0 = Timestamp(milliseconds: 1_767_225_600_000)

    private func incident(_ epoch: Int, group: String = "web", at offset: Int64) -> Incident {
        Incident(
            id: Incident.id(group: group, epoch: epoch), group: group, kind: .failover, planned: false, from: "east",
            to: "west", epoch: epoch, decided: t0.advanced(by: .milliseconds(offset)), rtoTarget: .seconds(300))
    }

    func testAGroupChangeStoresStateEventsAndIncidentsTogether() throws {
        let store = try EventStore.inMemory()
        var state = GroupState(primary: "west")
        state.epoch = 1
        state.lastIncident = "web-1"
        let event = Event(at: t0, controller: "c1", group: "web", site: "west", epoch: 1, kind: .failoverStarted)
        let stored = try store.recordGroupChange(
            group: "web", state: state, events: [event], incidents: [incident(1, at: 0)], at: t0)
        XCTAssertEqual(stored.map(\.id), [1])
        XCTAssertEqual(try store.groupStates()["web"], state)
        XCTAssertEqual(try store.incident(id: "web-1")?.to, "west")
        XCTAssertEqual(try store.events(EventQuery(group: "web")).map(\.kind), [.failoverStarted])
        XCTAssertEqual(try store.events(EventQuery(group: "db")), [])
    }

    func testAnIncidentSavedAgainIsReplacedNotDuplicated() throws {
        let store = try EventStore.inMemory()
        var first = incident(1, at: 0)
        try store.recordGroupChange(group: "web", state: GroupState(primary: "east"), events: [], incidents: [first], at: t0)
        first.result = .succeeded
        first.restored = t0.advanced(by: .seconds(4))
        try store.recordGroupChange(group: "web", state: GroupState(primary: "west"), events: [], incidents: [first], at: t0)
        let all = try store.incidents()
        XCTAssertEqual(all.count, 1)
        XCTAssertEqual(all[0].result, .succeeded)
        XCTAssertEqual(all[0].restored, t0.advanced(by: .seconds(4)))
    }

    func testIncidentsComeOldestFirstFilteredByGroupAndLimited() throws {
        let store = try EventStore.inMemory()
        let incidents = [incident(1, at: 0), incident(2, at: 10), incident(1, group: "db", at: 5), incident(3, at: 20)]
        for item in incidents {
            try store.recordGroupChange(group: item.group, state: GroupState(primary: "x"), events: [], incidents: [item], at: t0)
        }
        XCTAssertEqual(try store.incidents().map(\.id), ["web-1", "db-1", "web-2", "web-3"])
        XCTAssertEqual(try store.incidents(group: "web", limit: 2).map(\.id), ["web-2", "web-3"])
        XCTAssertNil(try store.incident(id: "web-9"))
    }
}
