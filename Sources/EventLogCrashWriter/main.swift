// Test helper for the event log's crash safety: appends events to the store at the path
// given as the first argument, as fast as it can, and prints each committed event's id on
// its own line (flushed) only after the commit returned. A test kills it with SIGKILL
// mid-stream and checks that every printed id is in the database and that it is sound.
import EventLog
import FailoverCore
import Foundation

guard CommandLine.arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: eventlog-crash-writer PATH [BATCH]\n".utf8))
    exit(64)
}
let store = try EventStore(path: CommandLine.arguments[1])
let batch = CommandLine.arguments.count >= 3 ? Int(CommandLine.arguments[2]) ?? 1 : 1
var sequence = 0
while true {
    let events = (0..<batch).map { _ -> Event in
        sequence += 1
        return Event(
            at: Timestamp(Date()), controller: "crash-writer", site: "site-\(sequence % 7)", kind: .siteStateChanged,
            details: .object(["sequence": .number(Double(sequence)), "padding": .string(String(repeating: "x", count: 200))]))
    }
    let ids = try store.recordEvents(events).map { "\($0.id!)\n" }.joined()
    // Unbuffered: an id is printed only once its transaction has returned.
    FileHandle.standardOutput.write(Data(ids.utf8))
}
