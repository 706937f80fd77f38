import FailoverCore
import PGWire

/// The old primary's last WAL position as a promotion knows it: exact (read live from a
/// fenced server, or from a cleanly stopped one's control file) or as last checked, `age` ago.
struct OldPosition {
    var position: WALPosition
    var age: Duration
    var exact: Bool
}

extension PostgresJob {
    /// Promotes the replica behind `session` (blocking, on the libpq thread) in place of
    /// `old`; see `PostgresAction`.
    /// `targetSeen` is the checks' last reading of the target: a replica whose primary is
    /// gone shows an older timeline than the one it streamed on until its next restartpoint.
    @Sendable func promote(_ session: PGSession, old: OldPrimary, targetSeen: DatabaseObservation? = nil) throws
        -> ActionReport
    {
        var state = try session.serverState()
        guard state.inRecovery else { return try alreadyPrimary(session, state: state, old: old) }
        state.observation = state.observation.keepingTimeline(of: targetSeen)
        if let why = DatabaseEligibility.refusal(state.observation, primary: old.observation, primaryName: old.name) {
            throw ActionError.permanent("refusing to promote \(target): \(why)")
        }
        var reference = try lastPosition(of: old)
        if let exact = reference, exact.exact {
            let caughtUp = try catchUp(session, old: old, final: exact.position, start: state)
            state = caughtUp.state
            reference?.position = caughtUp.final
        }
        let rpo = dataAtRisk(reference, received: state.observation.position)
        if let maxLag = options.maxLag, let bytes = rpo.lag.bytes, bytes > maxLag, !force {
            throw ActionError.permanent(
                "refusing to promote \(target): \(bytes) B of \(old.name)'s WAL never reached it, above max_lag \(maxLag) B (force to override)")
        }
        let seconds = max(1, Int(min(options.promoteTimeout, timeout).components.seconds))
        guard try session.value("SELECT pg_promote(true, \(seconds))") == "t" else {
            throw ActionError.failed("pg_promote on \(target) did not finish within \(seconds) s", retryable: true)
        }
        let promoted = try session.serverState()
        guard !promoted.inRecovery else {
            throw ActionError.failed("\(target) is still in recovery after pg_promote", retryable: true)
        }
        let forced = force && (options.maxLag.map { (rpo.lag.bytes ?? 0) > $0 } ?? false) ? ", forced above max_lag" : ""
        let replay = state.lagBytes > 0 ? "; replayed \(state.lagBytes) B received but not yet replayed" : ""
        let writable = try undoFence(session, state: promoted)
        let sentence =
            "promoted \(target) to primary on timeline \(promoted.observation.timeline) (RPO \(rpo.text)\(forced)\(replay))"
        return ActionReport(changed: [sentence] + writable, lag: reference == nil ? nil : rpo.lag)
    }

    /// "Already primary" is success only for a server promoted from a replica of the old
    /// primary: same system, on a later timeline than the old primary's, which no longer
    /// takes writes. Anything else (standalone, stale, diverged) is refused.
    private func alreadyPrimary(_ session: PGSession, state: PGServerState, old: OldPrimary) throws -> ActionReport {
        let me = state.observation
        guard let reference = old.observation else {
            throw ActionError.permanent(
                "refusing to take \(target) as the new primary: it is already a \(me.summary), and \(old.name)'s database was never read, so nothing shows it replicated from \(old.name)")
        }
        if me.systemIdentifier != reference.systemIdentifier,
            let why = DatabaseEligibility.refusal(me, primary: reference, primaryName: old.name)
        {
            throw ActionError.permanent("refusing to take \(target) as the new primary: \(why)")
        }
        guard me.timeline > reference.timeline, old.live?.observation.writable != true else {
            throw ActionError.permanent(
                "refusing to take \(target) as the new primary: it is already a \(me.summary), not a promoted replica of \(old.name) (\(reference.summary)); rejoin it as a replica of \(old.name) first")
        }
        let writable = try undoFence(session, state: state)
        return ActionReport(
            changed: ["\(target) is already primary on timeline \(me.timeline), promoted from \(old.name)'s timeline \(reference.timeline)"]
                + writable)
    }

    /// The old primary's last position, and how it is known. A drill needs it exactly: read
    /// live from a fenced server, or from the control file of a cleanly stopped one; a
    /// promotion never goes past a writable old primary.
    private func lastPosition(of old: OldPrimary) throws -> OldPosition? {
        if let live = old.live {
            if live.observation.writable, !force {
                throw ActionError.failed(
                    "refusing to promote \(target): the old primary \(old.name) still takes writes (\(live.observation.summary)); fence it first",
                    retryable: true)
            }
            return live.observation.position.map { OldPosition(position: $0, age: .zero, exact: true) }
        }
        if let position = old.stopped?.position { return OldPosition(position: position, age: .zero, exact: true) }
        if drill {
            throw ActionError.failed(
                "a drill promotes only once the old primary \(old.name) answers, so that no write is lost: \(old.liveError ?? "not read")",
                retryable: true)
        }
        guard let position = old.lastSeen?.position else { return nil }
        return OldPosition(position: position, age: old.lastSeenAge ?? .zero, exact: false)
    }

    /// The RPO: what the target lacks of the old primary's last position, in bytes, with
    /// the age of that position; unknown without a reference.
    private func dataAtRisk(_ reference: OldPosition?, received: WALPosition?) -> (lag: ReplicationLag, text: String) {
        guard let reference else { return (ReplicationLag(), "not measured: the old primary's position is unknown") }
        let bytes = reference.position.bytes(after: received ?? WALPosition(0))
        let seconds = reference.exact ? 0 : reference.age.seconds
        let have = received.map { "received up to \($0)" } ?? "received nothing"
        let how = reference.exact ? "last position" : String(format: "last position seen %.1f s before", seconds)
        return (ReplicationLag(bytes: bytes, seconds: seconds), "\(bytes) B: \(have), the old primary's \(how) \(reference.position)")
    }

    /// Waits until the target has replayed the fenced old primary's final position, then
    /// reads the old primary again: when its position moved on (a checkpoint, or a write by
    /// a role the fence does not lock out), waits for that too, until it stands still. A
    /// drill waits as long as the attempt may; an unplanned failover at most `catchUp`, then
    /// promotes with what it has. Returns the target's state and the final position.
    private func catchUp(_ session: PGSession, old: OldPrimary, final start: WALPosition, start state: PGServerState)
        throws -> (state: PGServerState, final: WALPosition)
    {
        let until = drill ? nil : ContinuousClock.now + catchUp
        var (state, final) = (state, start)
        for _ in 0..<20 {
            state = try waitForReplay(session, upTo: final, start: state, until: until)
            guard (state.observation.replayed ?? WALPosition(0)) >= final, let dsn = old.dsn else { break }
            let bound = PGControl(deadline: min(ContinuousClock.now + .seconds(1), session.control.deadline))
            guard let again = try? PGSession.connect(dsn: dsn, control: bound) else { break }
            defer { again.close() }
            guard let now = try? again.serverState(), let moved = now.observation.position, moved > final else { break }
            if now.observation.writable, !force {
                throw ActionError.failed(
                    "refusing to promote \(target): the old primary \(old.name) takes writes again (\(now.observation.summary)); fence it first",
                    retryable: true)
            }
            final = moved
        }
        return (state, final)
    }

    /// Polls until the target has replayed `final` or `until` (nil: the attempt's
    /// deadline) has passed.
    private func waitForReplay(_ session: PGSession, upTo final: WALPosition, start: PGServerState, until: ContinuousClock.Instant?)
        throws -> PGServerState
    {
        var state = start
        while (state.observation.replayed ?? WALPosition(0)) < final {
            if let until, ContinuousClock.now >= until { return state }
            try session.pause(poll)
            state = try session.serverState()
        }
        return state
    }
}
