import Foundation
import PGWire
import Synchronization

/// A client that writes the whole time, as an application does through a failover: every
/// `every` it inserts the next id into `table`, on the first of `dsns` that accepts the
/// write (a new connection each time, so a fence or a promotion shows at once), and keeps
/// the ids that a server acknowledged. A test then asserts on the rows themselves: every
/// acknowledged id must be on the surviving primary.
public final class AckedWriter: Sendable {
    /// One acknowledged write.
    public struct Ack: Sendable, Equatable {
        /// The id written.
        public var id: Int
        /// Which of `dsns` acknowledged it.
        public var server: Int
    }

    private let dsns: [String]
    private let table: String
    private let every: Duration
    private let acks = Mutex<[Ack]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Creates a writer; `table` must exist with an `id int` column.
    public init(dsns: [String], table: String = "acked", every: Duration = .milliseconds(50)) {
        self.dsns = dsns
        self.table = table
        self.every = every
    }

    /// Starts writing.
    public func start() {
        let work = Task { [dsns, table, every] in
            var id = 0
            while !Task.isCancelled {
                id += 1
                for (index, dsn) in dsns.enumerated() {
                    let sql = "INSERT INTO \(table) (id) VALUES (\(id))"
                    if (try? await PGClient.run(dsn: dsn, timeout: .milliseconds(500)) { try $0.rows(sql) }) != nil {
                        self.record(Ack(id: id, server: index))
                        break
                    }
                }
                try? await Task.sleep(for: every)
            }
        }
        task.withLock { $0 = work }
    }

    private func record(_ ack: Ack) { acks.withLock { $0.append(ack) } }

    /// Stops writing and returns every acknowledged write.
    public func stop() async -> [Ack] {
        let work = task.withLock { $0.take() }
        work?.cancel()
        await work?.value
        return acknowledged
    }

    /// The writes acknowledged so far.
    public var acknowledged: [Ack] { acks.withLock { $0 } }

    /// Waits until `count` more writes have been acknowledged than now (bounded by
    /// `timeout`); throws `HarnessError` otherwise.
    public func waitForMore(_ count: Int, timeout: Duration = .seconds(20)) async throws {
        let target = acknowledged.count + count
        let deadline = ContinuousClock.now + timeout
        while acknowledged.count < target {
            guard ContinuousClock.now < deadline else {
                throw HarnessError(.notReady, "the writer got \(acknowledged.count) of \(target) acknowledgements after \(timeout)")
            }
            try await Task.sleep(for: every)
        }
    }
}
