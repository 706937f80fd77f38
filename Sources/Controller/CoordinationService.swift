import Coordination
import EventLog
import FailoverCore
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps this controller's membership and leadership up to date, in loops that never wait
/// for each other: coordination rounds (join, view, campaign), whose view goes to the status
/// board (verdicts) and the leadership executor; a watch of what views read, so a round runs
/// as soon as something changed (a vote, the leader key, a member's lease, a group state) and
/// otherwise every `idle`; every `poll` while the watch is down; and every `keepAlive` a
/// renewal of the lease, so a slow view read never delays it.
struct CoordinationService<C: Clock>: Service, CustomStringConvertible where C.Duration == Duration {
    let coordinator: any Coordinator
    let board: StatusBoard
    let executor: LeadershipExecutor
    let poll: Duration
    let keepAlive: Duration
    let clock: C
    let logger: Logger
    /// A round at least this often while the watch works (lease ages, a missed change).
    var idle: Duration = .seconds(1)
    /// Kicked by the watch on every change.
    let changed = Wakeup()
    /// Whether the watch is established now.
    let watching = WatchState()

    var description: String { "CoordinationService" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await views() }
                group.addTask { await renewals() }
                group.addTask { await watches() }
            }
        }
    }

    private func views() async {
        var problem: String?
        while !Task.isCancelled {
            let view = await coordinator.refresh()
            await board.apply(view)
            await executor.viewRead(view)
            // Each new reason not to be quorate is logged once (the machine records the
            // change of quorum itself; this also covers a start without etcd).
            if view.problem != problem {
                if let now = view.problem { logger.warning("coordination: \(now)") } else { logger.notice("coordination: quorate again") }
                problem = view.problem
            }
            if watching.established {
                // A short pause makes a burst of changes (every controller's vote) one round.
                do { try await clock.sleep(for: min(poll, .milliseconds(20))) } catch { return }
                await changed.wait(upTo: idle)
            } else {
                do { try await clock.sleep(for: poll) } catch { return }
            }
        }
    }

    /// Keeps a watch open; while it is down the rounds come every `poll`.
    private func watches() async {
        var failing = false
        while !Task.isCancelled {
            let kick: @Sendable () -> Void = { [changed, watching] in
                watching.established = true
                changed.kick()
            }
            guard let ended = await coordinator.watchChanges(kick) else { return }
            let wasWatching = watching.established
            watching.established = false
            changed.kick()
            if !wasWatching && !failing { logger.warning("coordination: cannot watch etcd, reading every \(poll.text) instead: \(ended)") }
            failing = !wasWatching
            do { try await clock.sleep(for: poll) } catch { return }
        }
    }

    /// Whether the watch is established (read by the rounds, set by the watch).
    final class WatchState: Sendable {
        private let flag = Mutex(false)
        var established: Bool {
            get { flag.withLock { $0 } }
            set { flag.withLock { $0 = newValue } }
        }
    }

    private func renewals() async {
        var failing = false
        while !Task.isCancelled {
            do { try await clock.sleep(for: failing ? min(poll, keepAlive) : keepAlive) } catch { return }
            let renewal = await coordinator.keepAlive()
            await executor.lease(renewal)
            if case .failed(let why) = renewal {
                if !failing { logger.warning("coordination: the lease's keepalive failed, retrying: \(why)") }
                failing = true
            } else {
                failing = false
            }
        }
    }
}

/// Exchanges events with the other controllers through etcd: this controller's events go
/// out, theirs (and every incident) come into the event log, so `events`, `report` and
/// `status` show the whole timeline on any host. Cursors live in the event log, so nothing
/// is lost or doubled across restarts.
struct EventExchangeService<C: Clock>: Service, CustomStringConvertible where C.Duration == Duration {
    let coordinator: EtcdCoordinator
    let store: EventStore
    let controller: String
    let every: Duration
    let clock: C
    let logger: Logger

    var description: String { "EventExchangeService" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                do {
                    try await exchange()
                    if failing { logger.notice("event exchange with the other controllers works again") }
                    failing = false
                } catch {
                    if !failing { logger.warning("cannot exchange events with the other controllers, retrying: \(error)") }
                    failing = true
                }
                do { try await clock.sleep(for: every) } catch { return }
            }
        }
        // What is recorded until the end goes out too.
        try? await exchange()
    }

    /// One exchange: every own event not sent yet, then whatever the others recorded.
    func exchange() async throws {
        var sent = try store.mirrorCursor("sent")
        while true {
            let events = try store.ownEvents(controller: controller, afterID: sent)
            guard let last = events.last?.id else { break }
            try await coordinator.upload(events: events)
            try store.setMirrorCursor("sent", last)
            sent = last
        }
        var received = try store.mirrorCursor("received")
        while true {
            let batch = try await coordinator.download(after: received)
            guard batch.cursor > received else { break }
            try store.recordMirrored(events: batch.events, incidents: batch.incidents, cursor: "received", to: batch.cursor)
            received = batch.cursor
        }
    }
}
