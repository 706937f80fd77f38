import Foundation
import XCTest

/// Reads a site's state changes from the event log (through the `events` command) and
/// checks the debounce: down after exactly `fall` failed rounds, up after `rise` good ones.
struct Transitions {
    struct Change {
        let from: String
        let to: String
        let at: Int64
        let passes: Int
        let fails: Int
        let results: [[String: Any]]

        func result(_ check: String) -> [String: Any]? { results.first { $0["check"] as? String == check } }
    }

    let changes: [Change]

    init(_ c: ControllerProcess, site: String) throws {
        let out = try c.run(["events", "--json", "--site", site])
        guard out.status == 0 else { throw ControllerProcess.Failure("events failed: \(out.stderr)") }
        let list = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]] ?? []
        changes = list.filter { $0["kind"] as? String == "site_state_changed" }.compactMap { event in
            guard let d = event["details"] as? [String: Any] else { return nil }
            return Change(
                from: d["from"] as? String ?? "", to: d["to"] as? String ?? "", at: (event["at"] as? NSNumber)?.int64Value ?? 0,
                passes: (d["passes"] as? NSNumber)?.intValue ?? -1, fails: (d["fails"] as? NSNumber)?.intValue ?? -1,
                results: d["results"] as? [[String: Any]] ?? [])
        }
    }

    var path: [String] { changes.map { "\($0.from)->\($0.to)" } }

    /// Asserts the failing half: up ➜ suspect on the first failed round, suspect ➜ down on
    /// round `fall`, `failing` diagnosed as expected in the round that brought it down.
    func assertWentDown(
        fall: Int, interval: Int64, failing check: String, diagnosis: String, passing: [String] = [],
        file: StaticString = #filePath, line: UInt = #line
    ) -> Change? {
        guard let downIndex = changes.lastIndex(where: { $0.to == "down" }), downIndex > 0 else {
            XCTFail("no down transition in \(path)", file: file, line: line)
            return nil
        }
        let down = changes[downIndex]
        let suspect = changes[downIndex - 1]
        XCTAssertEqual("\(suspect.from)->\(suspect.to)", "up->suspect", "\(path)", file: file, line: line)
        XCTAssertEqual(suspect.fails, 1, file: file, line: line)
        XCTAssertEqual(down.fails, fall, "down after exactly fall failed rounds", file: file, line: line)
        let elapsed = down.at - suspect.at
        let expected = Int64(fall - 1) * interval
        XCTAssertTrue(
            abs(elapsed - expected) < interval / 2, "suspect ➜ down took \(elapsed) ms, expected \(expected)",
            file: file, line: line)
        XCTAssertEqual(down.result(check)?["diagnosis"] as? String, diagnosis, "\(down.results)", file: file, line: line)
        for other in passing {
            XCTAssertEqual(down.result(other)?["diagnosis"] as? String, "ok", "\(other) should pass", file: file, line: line)
        }
        XCTAssertNotNil(down.result(check)?["timings"], "probe timings recorded", file: file, line: line)
        return down
    }

    /// Asserts the recovering half: down ➜ recovering on the first good round, ➜ up on round `rise`.
    func assertCameBack(rise: Int, file: StaticString = #filePath, line: UInt = #line) {
        guard let upIndex = changes.lastIndex(where: { $0.to == "up" }), upIndex > 0 else {
            XCTFail("no up transition in \(path)", file: file, line: line)
            return
        }
        let up = changes[upIndex]
        XCTAssertEqual(up.from, rise == 1 ? "down" : "recovering", "\(path)", file: file, line: line)
        XCTAssertEqual(up.passes, rise, "up after exactly rise good rounds", file: file, line: line)
        if rise > 1 {
            XCTAssertEqual("\(changes[upIndex - 1].from)->\(changes[upIndex - 1].to)", "down->recovering", file: file, line: line)
        }
    }
}
