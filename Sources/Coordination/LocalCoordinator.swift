import FailoverCore
import Synchronization

/// The embedded default: one controller, a quorum of one, always its own leader.
///
/// Votes live in memory; the durable state (events, last statuses) is in the event log.
public final class LocalCoordinator: Coordinator {
    private let id: String
    private let votes = Mutex<[String: Vote]>([:])

    /// Creates a coordinator for controller `id`.
    public init(id: String) { self.id = id }

    /// Nothing to join: always a member.
    public func join() async throws {}

    /// Stores the votes in memory.
    public func publish(_ new: [Vote]) async throws {
        votes.withLock { current in
            for vote in new where vote.controller == id { current[vote.site] = vote }
        }
    }

    /// This controller's votes; always quorate, always leader.
    public func view() async throws -> CoordinationView {
        CoordinationView(
            backend: "local", me: id, policy: .single(id), votes: votes.withLock { Array($0.values) }, leader: id,
            quorate: true)
    }

    /// Always leader.
    public func campaign() async throws -> CoordinationView { try await view() }

    /// Nothing to release.
    public func leave() async {}

    /// The view: nothing can fail.
    public func refresh() async -> CoordinationView {
        CoordinationView(
            backend: "local", me: id, policy: .single(id), votes: votes.withLock { Array($0.values) }, leader: id,
            quorate: true)
    }
}
