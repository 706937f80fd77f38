import FailoverCore
/// Why a PostgreSQL connection or query through `PGClient` failed.
///
/// `message` is one line with the DSN's password already removed; `isRetryable` splits
/// failures a new attempt may fix (the server unreachable, starting, a timeout) from those
/// it cannot (bad credentials, an unknown database, an SQL error).
public struct PGError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: Sendable, Equatable {
        /// The server refused the credentials (password, pg_hba rule, unknown role).
        case authentication
        /// The server could not be reached or closed the connection.
        case unreachable
        /// The deadline passed (connecting or waiting for an answer).
        case timedOut
        /// The calling task was cancelled.
        case cancelled
        /// The server answered a query with an error (`sqlState` says which).
        case query
        /// The server or libpq refused the request for good (bad DSN, no such database).
        case rejected
    }

    /// The class of failure.
    public let kind: Kind
    /// One readable line, free of the DSN's password.
    public let message: String
    /// The SQLSTATE of a query error (`25006` read-only transaction, `57P01` terminated).
    public let sqlState: String?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }

    /// Whether a new attempt may succeed: unreachable, timed out, or a query error of the
    /// connection-exception (08), operator-intervention (57) or resource (53) classes.
    public var isRetryable: Bool {
        switch kind {
        case .unreachable, .timedOut: true
        case .authentication, .rejected, .cancelled: false
        case .query: ["08", "57", "53"].contains(String((sqlState ?? "").prefix(2)))
        }
    }

    /// The message, prefixed with the SQLSTATE for query errors.
    public var description: String {
        guard let sqlState else { return message }
        return "\(message) (SQLSTATE \(sqlState))"
    }

    /// Classifies the error text of a failed connection attempt (libpq gives no SQLSTATE
    /// there): credential problems are `authentication`, an unknown database `rejected`,
    /// everything else (refused, reset, starting up) `unreachable`.
    static func connectFailure(_ text: String) -> PGError {
        let lower = text.lowercased()
        let auth = [
            "authentication failed", "no password supplied", "no pg_hba.conf entry", "password authentication",
            "role \"", "permission denied for database", "scram",
        ]
        if auth.contains(where: lower.contains) { return PGError(.authentication, text) }
        if lower.contains("database \"") && lower.contains("does not exist") { return PGError(.rejected, text) }
        if lower.contains("invalid") && lower.contains("option") { return PGError(.rejected, text) }
        return PGError(.unreachable, text)
    }
}

extension PGError {
    /// This error's text as it may be shown: scrubbed of `dsn`'s password (plain and
    /// percent-encoded), whatever the server or libpq quoted.
    public func shown(dsn: String) -> String {
        Redaction.scrub(description, secrets: PostgresDSN.secrets(dsn))
    }
}
