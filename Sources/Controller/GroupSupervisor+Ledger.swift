import Coordination
import EventLog
import FailoverCore
import Logging

/// Ledger mode (etcd): following this controller's leadership, taking over the shared
/// states, stepping down, and taking a newer shared state.
extension GroupSupervisor {
    /// Ledger mode: follows this controller's leadership. On becoming the leader it reads
    /// every state from the ledger and resumes unfinished plans; on losing it, it cancels
    /// every running step and hook at once.
    func follow(_ snapshot: WorldSnapshot) async {
        guard let ledger else { return }
        if snapshot.canAct && !acting && !takingOver {
            // One take-over at a time: a tick and a snapshot may both get here.
            takingOver = true
            defer { takingOver = false }
            let entries: [String: LedgerEntry]
            do {
                entries = try await ledger.loadGroups()
            } catch {
                logger.error("cannot read the group states from the coordination store, so this leader does not act yet: \(error)")
                return
            }
            guard await ledger.mayAct() else { return }
            adopt(entries)
            term += 1
            acting = true
            logger.notice("this controller leads: it acts for \(config.groups.count) groups from the shared state")
            for group in config.groups {
                await commit(group.name) { fsm, now in fsm.restart(at: now, reason: "after taking over as the leader") }
            }
        } else if !snapshot.canAct && acting {
            stepDown(snapshot.whyNot ?? "not the leader")
        }
    }

    /// Stops acting: running steps and hooks are cancelled (the new leader resumes them).
    func stepDown(_ why: String) {
        guard acting else { return }
        acting = false
        let running = tasks
        tasks = [:]
        for task in running.values { task.cancel() }
        logger.critical(
            "this controller stops acting at once (\(why)); \(running.count) running steps or hooks cancelled, the leader resumes them")
    }

    /// Takes the ledger's states (and their revisions) as the machines' and mirrors them into
    /// the event log. A group the ledger does not hold (a new etcd, a new prefix) keeps the
    /// state of the local event log, epoch and primary included: the first change writes it.
    func adopt(_ entries: [String: LedgerEntry]) {
        for group in config.groups {
            guard let entry = entries[group.name] else {
                revisions[group.name] = 0
                continue
            }
            guard revisions[group.name] != entry.revision || machines[group.name] == nil else { continue }
            let state = checked(entry.state, group)
            machines[group.name] = GroupFSM(config: group, state: state)
            revisions[group.name] = entry.revision
            do {
                lastIncidents[group.name] = state.lastIncident.flatMap { try? store.incident(id: $0) }
                if let last = lastIncidents[group.name], last.result == .succeeded { metrics?.recordLastMeasures(of: last) }
                try store.saveGroupState(group.name, state, at: wallClock.now())
            } catch {
                logger.error("group \(group.name): cannot mirror the shared state into the event log: \(error)")
            }
        }
    }

    /// The ledger holds a newer state than this machine (a write of ours whose answer was
    /// lost, or a state changed behind our back): take it, and, while leading, resume what
    /// it says is running, so a plan never waits for a step no one runs.
    func adoptStale(_ name: String, _ entry: LedgerEntry?, resume: Bool) async throws {
        guard let group = config.group(named: name) else { return }
        guard let entry else {
            revisions[name] = 0  // the key is gone: the next write creates it
            return
        }
        var fsm = GroupFSM(config: group, state: checked(entry.state, group))
        machines[name] = fsm
        revisions[name] = entry.revision
        guard resume, acting else { return }
        let effects = fsm.restart(at: wallClock.now(), reason: "after re-reading the shared state")
        if !effects.isEmpty { try await apply(name, fsm, effects, resumeIfStale: false) }
    }
}
