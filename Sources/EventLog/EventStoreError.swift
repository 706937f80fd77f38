import GRDB

/// Why the event store could not open or serve a request.
///
/// Compare with the static members (`error == .notADatabase`): equality looks at the kind
/// of error only, not at the file or the detail. `description` names the file and what is
/// wrong. `isRetryable` tells a transient condition (the database is busy) from a fatal one.
public struct EventStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case databaseMissing
        case notADatabase
        case newerSchema
        case notInitialized
        case cannotCreateDirectory
        case cannotOpen
        case readOnly
        case unreadableRow
        case busy
        case sqlite
    }

    private let code: Code
    /// The database file concerned (`:memory:` for an in-memory store).
    public private(set) var path: String
    /// What went wrong beyond the kind of error (an SQLite message, unknown migrations...).
    public private(set) var detail: String

    private init(_ code: Code, path: String = "", detail: String = "") {
        self.code = code
        self.path = path
        self.detail = detail
    }

    /// A read-only open found no file at the path.
    public static let databaseMissing = EventStoreError(.databaseMissing)
    /// The file exists but is not an SQLite database (or is damaged beyond opening).
    public static let notADatabase = EventStoreError(.notADatabase)
    /// The database was migrated by a newer failoverctl than this one.
    public static let newerSchema = EventStoreError(.newerSchema)
    /// A read-only open found a database that no controller has initialised yet.
    public static let notInitialized = EventStoreError(.notInitialized)
    /// The state directory did not exist and could not be created.
    public static let cannotCreateDirectory = EventStoreError(.cannotCreateDirectory)
    /// SQLite could not open the file (permissions, I/O error...).
    public static let cannotOpen = EventStoreError(.cannotOpen)
    /// A write was attempted on a store opened read-only.
    public static let readOnly = EventStoreError(.readOnly)
    /// A stored row could not be decoded.
    public static let unreadableRow = EventStoreError(.unreadableRow)
    /// The database stayed locked by another connection past the busy timeout.
    public static let busy = EventStoreError(.busy)
    /// Any other SQLite failure.
    public static let sqlite = EventStoreError(.sqlite)

    /// True when trying again later may succeed (the database was busy); false when the
    /// same call will fail again until someone fixes the file, the schema or the caller.
    public var isRetryable: Bool { code == .busy }

    /// Equal when both are the same kind of error, whatever the path and detail.
    public static func == (a: EventStoreError, b: EventStoreError) -> Bool { a.code == b.code }

    /// One readable sentence naming the file and what is wrong.
    public var description: String {
        let file = path.isEmpty ? "the event log" : "event log \(path)"
        let suffix = detail.isEmpty ? "" : ": \(detail)"
        switch code {
        case .databaseMissing: return "\(file) does not exist (has a controller ever run with this state_dir?)"
        case .notADatabase: return "\(file) is not an SQLite database\(suffix)"
        case .newerSchema: return "\(file) was written by a newer failoverctl\(suffix); upgrade this binary"
        case .notInitialized: return "\(file) has not been initialised by a controller yet\(suffix)"
        case .cannotCreateDirectory: return "cannot create the directory of \(file)\(suffix)"
        case .cannotOpen: return "cannot open \(file)\(suffix)"
        case .readOnly: return "\(file) is open read-only\(suffix)"
        case .unreadableRow: return "\(file) holds a row that cannot be read\(suffix)"
        case .busy: return "\(file) stayed locked by another process\(suffix)"
        case .sqlite: return "SQLite error on \(file)\(suffix)"
        }
    }

    /// This error with the file and detail filled in.
    func at(_ path: String, _ detail: String = "") -> EventStoreError {
        EventStoreError(code, path: path, detail: detail)
    }

    /// Maps an SQLite error raised while opening `path`.
    static func opening(_ path: String, _ error: any Error) -> EventStoreError {
        if let mine = error as? EventStoreError { return mine }
        guard let dbError = error as? DatabaseError else { return cannotOpen.at(path, "\(error)") }
        switch dbError.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: return notADatabase.at(path, dbError.message ?? "")
        default: return during(path, error)
        }
    }

    /// Maps an error raised while reading or writing `path`.
    static func during(_ path: String, _ error: any Error) -> EventStoreError {
        if let mine = error as? EventStoreError { return mine }
        guard let dbError = error as? DatabaseError else { return sqlite.at(path, "\(error)") }
        let message = dbError.message ?? "\(dbError.resultCode)"
        switch dbError.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return busy.at(path, message)
        case .SQLITE_READONLY: return readOnly.at(path, message)
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH: return cannotOpen.at(path, message)
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: return notADatabase.at(path, message)
        default: return sqlite.at(path, message)
        }
    }
}
