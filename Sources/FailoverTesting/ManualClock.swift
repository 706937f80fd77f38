import FailoverCore
import Synchronization

/// A `Clock` whose time moves only when a test calls `advance(by:)`.
///
/// Sleepers resume when the clock passes their deadline; `waitForSleepers(_:)` lets a
/// test wait until the code under test is parked, instead of sleeping.
public final class ManualClock: Clock, Sendable {
    /// An instant on the manual clock.
    public struct Instant: InstantProtocol {
        /// Offset from the clock's origin.
        public var offset: Duration
        /// Creates an instant.
        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        let id: Int
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID = 0
        /// Sleepers cancelled before they were registered: they must not register.
        var cancelledEarly: Set<Int> = []
        var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    /// Creates a clock at offset zero.
    public init() {}

    /// The current instant.
    public var now: Instant { state.withLock { $0.now } }
    /// The clock's resolution.
    public var minimumResolution: Duration { .milliseconds(1) }

    /// Suspends until the clock reaches `deadline` (at once if it already has).
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { s -> Bool? in
                    if s.cancelledEarly.remove(id) != nil { return nil }
                    if deadline <= s.now { return true }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: c))
                    let ready = s.waiters.filter { $0.0 <= s.sleepers.count }
                    s.waiters.removeAll { $0.0 <= s.sleepers.count }
                    ready.forEach { $0.1.resume() }
                    return false
                }
                switch resumeNow {
                case nil: c.resume(throwing: CancellationError())
                case true?: c.resume()
                case false?: break
                }
            }
        } onCancel: {
            // The cancellation may come before the sleeper is registered: remember it then.
            let sleeper = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else {
                    s.cancelledEarly.insert(id)
                    return nil
                }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has passed.
    public func advance(by duration: Duration) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = s.now.advanced(by: duration)
            let due = s.sleepers.filter { $0.deadline <= s.now }
            s.sleepers.removeAll { $0.deadline <= s.now }
            return due
        }
        due.forEach { $0.continuation.resume() }
    }

    /// Returns once at least `count` tasks are sleeping on this clock.
    public func waitForSleepers(_ count: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.sleepers.count >= count { return true }
                s.waiters.append((count, c))
                return false
            }
            if ready { c.resume() }
        }
    }
}

/// A `WallClock` that tests set and advance by hand.
public final class ManualWallClock: WallClock {
    private let current: Mutex<Timestamp>

    /// Creates a clock reading `start` (default: 2026-01-01T00:00:00Z).
    public init(start: Timestamp = Timestamp(milliseconds: 1_767_225_600_000)) { current = Mutex(start) }

    /// The current manual time.
    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the time forward.
    public func advance(by duration: Duration) { current.withLock { $0 = $0.advanced(by: duration) } }
}
