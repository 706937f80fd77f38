import CLibPQ
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The deadline and cancellation flag every blocking wait of one `PGClient.run` obeys.
public final class PGControl: Sendable {
    /// When the whole run must be over.
    public let deadline: ContinuousClock.Instant
    private let flag = Atomic<Bool>(false)

    /// Creates a control ending at `deadline`.
    public init(deadline: ContinuousClock.Instant) { self.deadline = deadline }

    /// Makes every wait throw `.cancelled` at its next wake-up (within 20 ms).
    public func cancel() { flag.store(true, ordering: .relaxed) }

    /// Whether `cancel()` was called.
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }

    /// Throws `.cancelled` or `.timedOut` when the run must stop; `what` names the wait.
    func check(_ what: String) throws(PGError) {
        if isCancelled { throw PGError(.cancelled, "cancelled while \(what)") }
        if ContinuousClock.now >= deadline { throw PGError(.timedOut, "timed out while \(what)") }
    }
}

/// One libpq connection, used only from the thread `PGClient.run` gives it.
///
/// Guarantees: every wait (connecting, reading an answer, `pause`) wakes at least every
/// 20 ms to honour the control's deadline and cancellation; a query stopped that way is
/// cancelled on the server (`PQcancel`) before the error is thrown; errors never contain
/// the DSN's password; `close()` (called by `PGClient`) frees the connection.
public final class PGSession {
    private let conn: OpaquePointer
    private let dsn: String
    /// The deadline and cancellation of the run this session belongs to.
    public let control: PGControl
    private let secrets: [String]

    private init(conn: OpaquePointer, dsn: String, control: PGControl, secrets: [String]) {
        self.conn = conn
        self.dsn = dsn
        self.control = control
        self.secrets = secrets
    }

    /// Connects to `dsn` (a `postgres://` URI or `key=value` pairs) without blocking past
    /// the control's deadline.
    public static func connect(dsn: String, control: PGControl) throws(PGError) -> PGSession {
        let secrets = PGDSN.secrets(dsn)
        guard let conn = PQconnectStart(dsn) else { throw PGError(.rejected, "libpq could not allocate a connection") }
        let session = PGSession(conn: conn, dsn: dsn, control: control, secrets: secrets)
        do {
            try session.finishConnecting()
        } catch {
            session.close()
            throw error
        }
        return session
    }

    /// A new connection to the same DSN under the same control.
    public func reconnect() throws(PGError) -> PGSession {
        try Self.connect(dsn: dsn, control: control)
    }

    private func finishConnecting() throws(PGError) {
        if PQstatus(conn) == CONNECTION_BAD { throw PGError.connectFailure(lastError()) }
        var state = PGRES_POLLING_WRITING
        while true {
            switch state {
            case PGRES_POLLING_OK: return
            case PGRES_POLLING_FAILED: throw PGError.connectFailure(lastError())
            case PGRES_POLLING_READING: try wait(events: Int16(POLLIN), "connecting")
            default: try wait(events: Int16(POLLOUT), "connecting")
            }
            state = PQconnectPoll(conn)
        }
    }

    /// Frees the connection (idempotent use is not supported: `PGClient` calls it once).
    public func close() { PQfinish(conn) }

    /// The rows `sql` returns (text values, nil for NULL); for several statements, those of
    /// the last one returning rows. An SQL error throws `.query` with its SQLSTATE.
    public func rows(_ sql: String) throws(PGError) -> [[String?]] {
        guard PQsendQuery(conn, sql) == 1 else { throw PGError(.unreachable, lastError()) }
        var rows: [[String?]] = []
        var failure: PGError?
        while true {
            try awaitResult()
            guard let result = PQgetResult(conn) else { break }
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status == PGRES_TUPLES_OK {
                rows = Self.values(result)
            } else if status != PGRES_COMMAND_OK, failure == nil {
                failure = queryError(result)
            }
        }
        if let failure { throw failure }
        return rows
    }

    /// The first column of the first row `sql` returns (nil for NULL or no row).
    public func value(_ sql: String) throws(PGError) -> String? {
        try rows(sql).first?.first ?? nil
    }

    /// Sleeps `duration` (or until the deadline / cancellation, which throw).
    public func pause(_ duration: Duration) throws(PGError) {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            try control.check("waiting")
            usleep(UInt32(min(20_000, max(1, (end - ContinuousClock.now).microseconds))))
        }
    }

    /// Waits until libpq holds a whole result; on deadline or cancellation cancels the query.
    private func awaitResult() throws(PGError) {
        while PQisBusy(conn) == 1 {
            do {
                try wait(events: Int16(POLLIN), "waiting for an answer")
            } catch {
                cancelQuery()
                throw error
            }
            guard PQconsumeInput(conn) == 1 else { throw PGError(.unreachable, lastError()) }
        }
    }

    /// Polls the socket for `events` in 20 ms slices, checking the control between them.
    private func wait(events: Int16, _ what: String) throws(PGError) {
        while true {
            try control.check(what)
            var fd = pollfd(fd: PQsocket(conn), events: events, revents: 0)
            guard fd.fd >= 0 else { throw PGError(.unreachable, "no socket while \(what): \(lastError())") }
            if poll(&fd, 1, 20) != 0 { return }
        }
    }

    private func cancelQuery() {
        guard let cancel = PQgetCancel(conn) else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, 256)
        PQfreeCancel(cancel)
    }

    private func queryError(_ result: OpaquePointer) -> PGError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let text = PQresultErrorMessage(result).map { String(cString: $0) } ?? "query failed"
        return PGError(.query, scrub(text), sqlState: state)
    }

    private func lastError() -> String {
        scrub(PQerrorMessage(conn).map { String(cString: $0) } ?? "unknown libpq error")
    }

    private func scrub(_ text: String) -> String {
        var line = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
        for secret in secrets where !secret.isEmpty { line = line.replacingOccurrences(of: secret, with: "REDACTED") }
        return line
    }

    private static func values(_ result: OpaquePointer) -> [[String?]] {
        (0..<PQntuples(result)).map { row in
            (0..<PQnfields(result)).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
        }
    }
}

extension Duration {
    fileprivate var microseconds: Int64 {
        components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000
    }
}
