import CLibPQ
import Foundation

/// Runs blocking libpq work off Swift's cooperative pool.
///
/// Guarantees: each `run` gets its own thread and connection(s), so no concurrency thread
/// ever blocks on the network; the whole run (connect plus `work`) is bounded by `timeout`
/// (`PGError.timedOut`, retryable); cancelling the calling task stops it within about
/// 20 ms (`CancellationError`) and cancels a running query on the server; the connection
/// is always closed; no error carries the DSN's password.
public enum PGClient {
    /// Connects to `dsn` and runs `work` on a dedicated thread. Errors thrown by `work`
    /// (of any type) are rethrown unchanged.
    public static func run<T: Sendable>(
        dsn: String, timeout: Duration, _ work: @escaping @Sendable (PGSession) throws -> T
    ) async throws -> T {
        let control = PGControl(deadline: .now + timeout)
        let result: Result<T, any Error> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    continuation.resume(returning: Result { try Self.session(dsn, control, work) })
                }
                thread.name = "postgres"
                thread.start()
            }
        } onCancel: {
            control.cancel()
        }
        if case .failure(let error as PGError) = result, error.kind == .cancelled { throw CancellationError() }
        return try result.get()
    }

    private static func session<T>(_ dsn: String, _ control: PGControl, _ work: (PGSession) throws -> T) throws -> T {
        let session = try PGSession.connect(dsn: dsn, control: control)
        defer { session.close() }
        return try work(session)
    }
}

/// Reading connection strings the way libpq does.
public enum PGDSN {
    /// The password `dsn` carries (plain and as written, for URIs percent-encoded), for
    /// scrubbing text; empty when there is none or the DSN does not parse.
    public static func secrets(_ dsn: String) -> [String] {
        guard let password = options(dsn)?.first(where: { $0.key == "password" })?.value else { return [] }
        guard let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != password
        else { return [password] }
        return [password, encoded]
    }

    /// The keyword/value pairs libpq reads from `dsn` (URI or key=value), those with a value;
    /// nil when it does not parse.
    private static func options(_ dsn: String) -> [(key: String, value: String)]? {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(dsn, &message) else {
            if let message { PQfreemem(message) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var found: [(key: String, value: String)] = []
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val { found.append((String(cString: keyword), String(cString: value))) }
            cursor += 1
        }
        return found
    }

    /// Nil when libpq accepts `dsn`'s syntax, else its complaint (which never quotes values).
    public static func problem(_ dsn: String) -> String? {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(dsn, &message) else {
            defer { if let message { PQfreemem(message) } }
            return message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "invalid"
        }
        PQconninfoFree(options)
        return nil
    }
}

extension PGDSN {
    /// `dsn` as `key=value` pairs without its password (libpq then reads the password from
    /// the `~/.pgpass` of whoever connects); nil when libpq cannot parse it.
    public static func withoutPassword(_ dsn: String) -> String? {
        options(dsn)?.filter { $0.key != "password" }.map { pair in
            let quoted = pair.value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            return "\(pair.key)='\(quoted)'"
        }.joined(separator: " ")
    }
}
