import EventLog
import FailoverCore
import FailoverTesting
import Foundation
import XCTest

/// kill -9 of a process in the middle of writing events: the log opens cleanly afterwards
/// and holds every event whose commit had returned.
final class CrashSafetyTests: XCTestCase {
    func testEveryCommittedEventSurvivesSigkill() throws {
        for batch in [1, 50] {
            try runCrash(batch: batch, killAfter: 3_000)
        }
    }

    private func runCrash(batch: Int, killAfter: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = EventStore.path(inStateDirectory: dir.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuildProducts.executable("eventlog-crash-writer"))
        process.arguments = [path, String(batch)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()

        // Read acknowledged ids until enough were committed, then kill without warning.
        var acknowledged: [Int64] = []
        var pending = Data()
        let handle = pipe.fileHandleForReading
        while acknowledged.count < killAfter {
            let chunk = handle.availableData
            guard !chunk.isEmpty else { XCTFail("writer exited early (status \(process.terminationStatus))"); return }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                if let id = Int64(line) { acknowledged.append(id) }
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)

        let store = try EventStore(path: path, readOnly: true)
        XCTAssertEqual(try store.integrityCheck(), ["ok"])
        let stored = Set(try store.events(EventQuery(limit: 10_000_000)).compactMap(\.id))
        let lost = acknowledged.filter { !stored.contains($0) }
        XCTAssertTrue(lost.isEmpty, "batch \(batch): \(lost.count) acknowledged events lost, first \(lost.prefix(5))")
        XCTAssertGreaterThanOrEqual(stored.count, acknowledged.count)
        // Ids are dense: a transaction is all or nothing, so no gaps from torn batches.
        XCTAssertEqual(stored.count, Int(stored.max() ?? 0), "batch \(batch): gaps in stored ids")
        XCTAssertEqual(stored.count % batch, 0, "batch \(batch): a partial batch was stored")
    }
}
