import Foundation

/// A wall-clock instant in UTC milliseconds since the Unix epoch.
///
/// The decision logic never reads the clock: callers pass a `Timestamp` in.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    /// Creates a timestamp from milliseconds since the epoch.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// Creates a timestamp from a `Date`, truncated to milliseconds.
    public init(_ date: Date) { milliseconds = Int64((date.timeIntervalSince1970 * 1_000).rounded(.down)) }

    /// The same instant as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: Double(milliseconds) / 1_000) }

    /// This instant moved by `duration`.
    public func advanced(by duration: Duration) -> Timestamp {
        Timestamp(milliseconds: milliseconds + duration.milliseconds)
    }

    /// The duration from `other` to this instant (negative when `other` is later).
    public func since(_ other: Timestamp) -> Duration { .milliseconds(milliseconds - other.milliseconds) }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    /// ISO 8601 in UTC with milliseconds, e.g. `2026-11-21T19:10:37.123Z`.
    public var description: String { Timestamp.format(self) }

    public init(from decoder: Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(milliseconds)
    }

    static func format(_ t: Timestamp) -> String {
        var seconds = time_t(t.milliseconds / 1_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
            Int(t.milliseconds % 1_000))
    }
}

/// Where the edges get the wall-clock time; tests substitute a manual source.
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Timestamp
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// Creates the system clock.
    public init() {}
    /// Reads the system real-time clock.
    public func now() -> Timestamp { Timestamp(Date()) }
}
