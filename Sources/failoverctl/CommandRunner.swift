import Controller
import EventLog
import FailoverCore
import Foundation

/// Sending a command to the running controller and following it to its end.
struct CommandRunner {
    let reader: StateReader
    let group: String

    /// Sends `command`, prints the group's events until no failover runs any more (or
    /// `wait` passes), then the incidents it produced; returns the exit code: 0 every
    /// incident passed, 1 one missed a target, 2 stuck, failed, vetoed or refused.
    func run(_ command: GroupCommand, wait: Duration?) async throws -> Int32 {
        let before = try? await reader.liveEvents(EventQuery(group: group, limit: 1))
        let reply: CommandReply
        do {
            reply = try await reader.send(command, group: group)
        } catch {
            Terminal.error(error.status == nil ? "\(error.description) (is the controller running?)" : error.description)
            return 2
        }
        print("accepted: \(reply.accepted) of \(group) (primary \(reply.group.primary), \(reply.group.phase))")
        guard let wait else { return 0 }
        let status = await follow(after: before?.last?.id ?? 0, until: Timestamp(Date()).advanced(by: wait))
        guard let status else {
            Terminal.error("still running after \(wait.text); follow it with failoverctl events or status")
            return 2
        }
        let incidents = ((try? await reader.liveIncidents(group: group, limit: 20)) ?? [])
            .filter { $0.incident.epoch > epochBefore(reply) }
        if !incidents.isEmpty { print("\n" + ReportTable.render(incidents)) }
        if status.run != nil || incidents.isEmpty { return 2 }
        if incidents.contains(where: { $0.incident.result != .succeeded }) { return 2 }
        return incidents.allSatisfy(\.measures.passed) ? 0 : 1
    }

    /// The epoch before the command: a run it started has a larger one.
    private func epochBefore(_ reply: CommandReply) -> Int {
        guard let run = reply.group.run else { return reply.group.epoch }
        return run.phase == .awaitingHook ? reply.group.epoch : reply.group.epoch - 1
    }

    /// Prints the group's new events every 200 ms until no run is in progress; the final
    /// status, or nil at the deadline.
    private func follow(after firstID: Int64, until deadline: Timestamp) async -> GroupStatus? {
        var lastID = firstID
        while Timestamp(Date()) < deadline {
            let events = (try? await reader.liveEvents(EventQuery(group: group, afterID: lastID))) ?? []
            for event in events { print(Events.line(event)) }
            lastID = events.last?.id ?? lastID
            if let status = try? await reader.liveGroup(group), status.phase != "returning",
                status.run.map({ $0.phase == .stuck || $0.phase == .suspended }) ?? true
            {
                let rest = (try? await reader.liveEvents(EventQuery(group: group, afterID: lastID))) ?? []
                for event in rest { print(Events.line(event)) }
                return status
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }
}
