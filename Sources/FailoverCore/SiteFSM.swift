/// Debounce thresholds: how many consecutive rounds change a site's state.
public struct Thresholds: Sendable, Equatable {
    /// Consecutive failed rounds before a site is down (≥ 1).
    public var fall: Int
    /// Consecutive good rounds before a site is up (≥ 1).
    public var rise: Int

    /// Creates thresholds; values below 1 are raised to 1.
    public init(fall: Int, rise: Int) {
        self.fall = max(1, fall)
        self.rise = max(1, rise)
    }
}

/// The debounce state machine of one site, as seen by one controller.
///
/// Pure value type: it reads no clock and performs no I/O. Feed it each probe round's
/// outcome with the round's time; it returns the transitions to record. The table is in
/// `docs/fsm.md`.
public struct SiteFSM: Sendable, Equatable {
    /// The states of a site.
    public enum State: String, Sendable, Equatable, CaseIterable, Codable {
        /// No verdict yet (just started).
        case unknown
        /// Passing.
        case up
        /// Failing, but fewer than `fall` rounds in a row.
        case suspect
        /// Failed `fall` rounds in a row.
        case down
        /// Passing again, but fewer than `rise` rounds in a row.
        case recovering

        /// The verdict this state stands for.
        public var verdict: Verdict {
            switch self {
            case .unknown: .unknown
            case .up: .up
            case .suspect: .suspect
            case .down, .recovering: .down
            }
        }
    }

    /// What the owner of the machine must do after an input.
    public enum Effect: Sendable, Equatable {
        /// Record (and log) that the state changed.
        case transition(SiteTransition)
    }

    /// The debounce thresholds.
    public let thresholds: Thresholds
    /// The current state.
    public private(set) var state: State = .unknown
    /// When the current state was entered (nil before the first round).
    public private(set) var since: Timestamp?
    /// Consecutive passing rounds up to now.
    public private(set) var passes = 0
    /// Consecutive failing rounds up to now.
    public private(set) var fails = 0
    /// The last passing round.
    public private(set) var lastOK: Timestamp?
    /// The first failing round of the current failing streak (nil while passing).
    public private(set) var firstFail: Timestamp?

    /// Creates a machine in `unknown`.
    public init(thresholds: Thresholds) { self.thresholds = thresholds }

    /// The verdict of the current state.
    public var verdict: Verdict { state.verdict }

    /// Feeds one probe round's outcome observed at `now`.
    public mutating func observe(_ outcome: ProbeOutcome, at now: Timestamp) -> [Effect] {
        switch outcome {
        case .pass:
            passes += 1
            fails = 0
            lastOK = now
            return move(to: stateAfterPass(), at: now)
        case .fail:
            if fails == 0 { firstFail = now }
            fails += 1
            passes = 0
            return move(to: stateAfterFail(), at: now)
        case .inconclusive:
            // The controller could not probe: that says nothing about the site.
            return []
        }
    }

    private func stateAfterPass() -> State {
        switch state {
        // unknown ➜ up: `rise` good rounds in a row
        case .unknown: passes >= thresholds.rise ? .up : .unknown
        // up ➜ up
        case .up: .up
        // suspect ➜ up: one good round ends the suspicion (fall counts consecutive rounds)
        case .suspect: .up
        // down ➜ recovering: first good round (➜ up at once when rise is 1)
        case .down: passes >= thresholds.rise ? .up : .recovering
        // recovering ➜ up: `rise` good rounds in a row
        case .recovering: passes >= thresholds.rise ? .up : .recovering
        }
    }

    private func stateAfterFail() -> State {
        switch state {
        // unknown ➜ down: `fall` failed rounds in a row
        case .unknown: fails >= thresholds.fall ? .down : .unknown
        // up ➜ suspect: first failed round (➜ down at once when fall is 1)
        case .up: fails >= thresholds.fall ? .down : .suspect
        // suspect ➜ down: `fall` failed rounds in a row
        case .suspect: fails >= thresholds.fall ? .down : .suspect
        // down ➜ down
        case .down: .down
        // recovering ➜ down: a failed round breaks the good streak
        case .recovering: .down
        }
    }

    private mutating func move(to next: State, at now: Timestamp) -> [Effect] {
        if since == nil { since = now }
        guard next != state else { return [] }
        let transition = SiteTransition(
            from: state, to: next, at: now, passes: passes, fails: fails, lastOK: lastOK,
            firstFail: next.verdict == .up ? nil : firstFail)
        state = next
        since = now
        if next == .up { firstFail = nil }
        return [.transition(transition)]
    }
}

/// One change of a site's state, with the streak that caused it.
public struct SiteTransition: Sendable, Equatable, Codable {
    /// The state left.
    public var from: SiteFSM.State
    /// The state entered.
    public var to: SiteFSM.State
    /// The time of the round that caused it.
    public var at: Timestamp
    /// Consecutive good rounds at that point.
    public var passes: Int
    /// Consecutive failed rounds at that point.
    public var fails: Int
    /// The last good round before it.
    public var lastOK: Timestamp?
    /// The first failed round of the streak (nil when the site is up).
    public var firstFail: Timestamp?

    /// Whether the verdict (not just the state) changed.
    public var changesVerdict: Bool { from.verdict != to.verdict }

    enum CodingKeys: String, CodingKey {
        case from, to, at, passes, fails
        case lastOK = "last_ok", firstFail = "first_fail"
    }
}

/// A controller's (or the quorum's) opinion of a site.
public enum Verdict: String, Sendable, Equatable, CaseIterable, Codable {
    case unknown
    case up
    case suspect
    case down
}
