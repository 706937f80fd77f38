import Foundation
import GRDB

/// The controller's SQLite state: the event log, the last status of each site and a few
/// facts about the controller. The one type that owns the database; everything else goes
/// through its methods, which are named for intent.
///
/// Thread safety: every method may be called from any thread or task. Writes are
/// serialised by SQLite (one writer connection); reads run concurrently with them.
///
/// Durability: on a file the database runs in WAL mode with `synchronous = NORMAL`. A
/// transaction that returned is in the WAL in the OS page cache, so it survives the
/// process being killed (`kill -9`, crash, OOM kill) and the database is never corrupted.
/// Only an OS crash or power loss of the controller's host can lose the last few
/// transactions before the WAL is synced at a checkpoint; that costs no consistency. We
/// take that trade for writes well under a millisecond (`FULL` would `fsync` each commit).
/// Another process may read the file while the controller writes (see `init(path:readOnly:)`).
public final class EventStore: Sendable {
    /// The file name of the store inside the controller's `state_dir`.
    public static let fileName = "failoverctl.sqlite"

    /// How long a connection waits for another one's lock before failing with `.busy`.
    public static let busyTimeout: TimeInterval = 5

    /// The path of the store inside `stateDirectory`.
    public static func path(inStateDirectory stateDirectory: String) -> String {
        URL(fileURLWithPath: stateDirectory).appendingPathComponent(fileName).path
    }

    /// The database file (`:memory:` for an in-memory store).
    public let path: String
    /// True when opened with `readOnly: true`: writes throw `EventStoreError.readOnly`.
    public let isReadOnly: Bool
    let database: any DatabaseWriter
    /// A connection of its own for `checkpoint()`, so copying the WAL back into the
    /// database (and its fsync) never holds up a write.
    private let checkpointer: DatabaseQueue?
    /// Which alerts each recorded event queues (nil: no alerting).
    let outboxHooks: OutboxHooks?

    private init(
        path: String, database: any DatabaseWriter, readOnly: Bool, checkpointer: DatabaseQueue? = nil,
        outbox: OutboxHooks? = nil
    ) {
        self.path = path
        self.database = database
        self.isReadOnly = readOnly
        self.checkpointer = checkpointer
        self.outboxHooks = outbox
    }

    /// Opens the store at `path`.
    ///
    /// Read-write (the controller): creates the parent directory and the file if missing and
    /// brings the schema up to date with the named migrations. Read-only (the CLI): creates
    /// nothing and runs no migration; the file must exist and hold a complete schema. SQLite
    /// may still create the transient `-wal`/`-shm` files beside it, as any WAL reader does.
    ///
    /// - Throws: `EventStoreError`: `.databaseMissing` (read-only, no file),
    ///   `.notADatabase`, `.newerSchema`, `.notInitialized` (read-only, schema incomplete),
    ///   `.cannotCreateDirectory`, `.cannotOpen`; each names the file.
    ///
    /// With `backgroundCheckpoints` (the controller), commits never checkpoint the WAL
    /// themselves: the owner calls `checkpoint()` every few seconds instead, so no write (an
    /// event the controller must record before it acts) waits for a checkpoint's fsync.
    ///
    /// With `outbox`, every recorded event queues its alerts in the same transaction.
    public convenience init(
        path: String, readOnly: Bool = false, backgroundCheckpoints: Bool = false, outbox: OutboxHooks? = nil
    ) throws {
        let database: any DatabaseWriter
        var checkpointer: DatabaseQueue?
        do {
            if readOnly {
                database = try Self.openReadOnly(path: path)
            } else {
                try Self.createParentDirectory(of: path)
                var configuration = Self.configuration(readOnly: false)
                if backgroundCheckpoints {
                    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
                }
                database = try DatabasePool(path: path, configuration: configuration)
                try Self.migrate(database, path: path)
                if backgroundCheckpoints {
                    checkpointer = try DatabaseQueue(path: path, configuration: Self.configuration(readOnly: false))
                }
            }
        } catch {
            throw EventStoreError.opening(path, error)
        }
        self.init(path: path, database: database, readOnly: readOnly, checkpointer: checkpointer, outbox: outbox)
    }

    /// Copies what the WAL holds back into the database without waiting for readers or
    /// blocking writers (a passive checkpoint on a connection of its own). For stores
    /// opened with `backgroundCheckpoints`; a no-op otherwise.
    public func checkpoint() throws {
        guard let checkpointer else { return }
        do {
            try checkpointer.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
        } catch {
            throw EventStoreError.during(path, error)
        }
    }

    /// A fresh, migrated store in memory, for tests. Nothing survives the instance.
    public static func inMemory(outbox: OutboxHooks? = nil) throws -> EventStore {
        do {
            let queue = try DatabaseQueue(configuration: configuration(readOnly: false))
            try migrate(queue, path: ":memory:")
            return EventStore(path: ":memory:", database: queue, readOnly: false, outbox: outbox)
        } catch {
            throw EventStoreError.opening(":memory:", error)
        }
    }

    private static func openReadOnly(path: String) throws -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else {
            throw EventStoreError.databaseMissing.at(path)
        }
        // One connection is all a CLI read needs; WAL lets it read while the controller writes.
        let queue = try DatabaseQueue(path: path, configuration: configuration(readOnly: true))
        try checkSchema(queue, path: path)
        return queue
    }

    private static func configuration(readOnly: Bool) -> Configuration {
        var config = Configuration()
        config.readonly = readOnly
        config.busyMode = .timeout(busyTimeout)
        config.label = "failoverctl.eventlog"
        // The API and the CLI read little at a time: two readers and a small page cache
        // per connection keep the controller's memory flat however many sites it probes.
        config.maximumReaderCount = 2
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -1024")
            if !readOnly {
                // See the type's comment: survives kill -9; only power loss may drop the last commits.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // Keep the WAL from growing without bound between checkpoints.
                try db.execute(sql: "PRAGMA journal_size_limit = 8388608")
            }
        }
        return config
    }

    private static func createParentDirectory(of path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw EventStoreError.cannotCreateDirectory.at(path, "\(directory): \(error.localizedDescription)")
        }
    }

    /// Runs `updates` in one transaction, mapping errors to `EventStoreError`.
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        guard !isReadOnly else { throw EventStoreError.readOnly.at(path) }
        do {
            return try database.write(updates)
        } catch {
            throw EventStoreError.during(path, error)
        }
    }

    /// Runs `value` on a consistent snapshot, mapping errors to `EventStoreError`.
    func read<T>(_ value: (Database) throws -> T) throws -> T {
        do {
            return try database.read(value)
        } catch {
            throw EventStoreError.during(path, error)
        }
    }

    /// The result of SQLite's `PRAGMA integrity_check`: `["ok"]` for a sound database.
    public func integrityCheck() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}
