import Coordination
import EventLog
import FailoverCore
import Logging
import ServiceLifecycle

/// Keeps this controller's membership and leadership up to date, in two loops that never
/// wait for each other: every `poll` one round of the coordinator's upkeep (join, view,
/// campaign), whose view goes to the status board (verdicts) and the leadership executor;
/// and every `keepAlive` a renewal of the lease, so a slow view read never delays it.
struct CoordinationService<C: Clock>: Service, CustomStringConvertible where C.Duration == Duration {
    let coordinator: any Coordinator
    let board: StatusBoard
    let executor: LeadershipExecutor
    let poll: Duration
    let keepAlive: Duration
    let clock: C
    let logger: Logger

    var description: String { "CoordinationService" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await views() }
                group.addTask { await renewals() }
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
            do { try await clock.sleep(for: poll) } catch { return }
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
