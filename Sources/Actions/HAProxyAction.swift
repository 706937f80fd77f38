import FailoverCore
import Logging

/// Sets a site's HAProxy servers' administrative state through the runtime API, for a
/// `haproxy` action: `drain` and `fence` put them in the configured mode (`drain` or
/// `maint`), `promote` and `dns` (the site is the new target: failback) back to `ready`.
///
/// Guarantees, beyond `ActionPlugin`'s:
/// - One command per connection (TCP or unix socket), each bounded by the smaller of the
///   options' `timeout` and the attempt's; the socket work runs on its own thread and stops
///   at once when the task is cancelled.
/// - Idempotent: it reads `show servers state BACKEND` first and only sends
///   `set server BACKEND/SERVER state ...` for servers not yet in the wanted state
///   (reporting the others as "already"); then it reads the state again and fails
///   (retryable) unless every server shows it (admin state bits FMAINT 0x01, FDRAIN 0x08).
/// - With `wait_sessions`, after a drain or maint it polls `show stat` until the servers'
///   current sessions (`scur`) are zero or the bound passes; either way the step succeeds
///   and `changed` says which happened.
/// - An unreachable or silent API is a retryable failure (a timeout for silence); HAProxy
///   refusing a command (no such backend or server, a socket below `level admin`) is
///   permanent and quotes HAProxy's one-line answer.
public struct HAProxyAction: ActionPlugin {
    private let sessionPoll: Duration
    private let logger: Logger

    /// Creates the plugin; `sessionPoll` is the interval of `wait_sessions` polling.
    public init(
        sessionPoll: Duration = .milliseconds(100), logger: Logger = Logger(label: "failoverctl.actions.haproxy")
    ) {
        self.sessionPoll = sessionPoll
        self.logger = logger
    }

    /// Brings the step's servers to their wanted state once; see the type's guarantees.
    public func perform(_ request: ActionRequest) async throws -> ActionReport {
        guard case .plugin(.haproxy(let options)) = request.step.action else {
            throw ActionError.permanent("the haproxy plugin cannot run \(request.step.summary)")
        }
        let target = HAProxyTarget(kind: request.step.kind, mode: options.mode)
        let api = HAProxyRuntimeAPI(admin: options.admin, timeout: min(options.timeout, request.timeout))
        let before = try await api.adminStates(backend: options.backend, servers: options.servers)
        var changed: [String] = []
        for server in options.servers {
            let name = "\(options.backend)/\(server)"
            if let state = before[server], target.isShown(by: state) {
                changed.append("\(name) was already \(target.word)")
                continue
            }
            try await api.command("set server \(name) state \(target.rawValue)")
            changed.append("set \(name) to \(target.word)")
        }
        let after = try await api.adminStates(backend: options.backend, servers: options.servers)
        try Self.verify(after, target: target, options: options)
        logger.debug("haproxy \(options.backend): \(changed.joined(separator: "; "))")
        if let bound = options.waitSessions, target != .ready {
            changed.append(try await waitForSessions(api, options: options, bound: bound))
        }
        return ActionReport(changed: changed)
    }

    /// Throws unless every server shows `target` in `states`.
    static func verify(_ states: [String: UInt32], target: HAProxyTarget, options: HAProxyOptions) throws {
        for server in options.servers {
            guard let state = states[server], target.isShown(by: state) else {
                let shown = states[server].map { "0x" + String($0, radix: 16) } ?? "nothing"
                throw ActionError.failed(
                    "after setting \(options.backend)/\(server) to \(target.word), HAProxy shows admin state \(shown)",
                    retryable: true)
            }
        }
    }

    /// Polls the servers' current sessions until zero or `bound`; the sentence saying which.
    private func waitForSessions(_ api: HAProxyRuntimeAPI, options: HAProxyOptions, bound: Duration) async throws
        -> String
    {
        let clock = ContinuousClock()
        let start = clock.now
        let names = options.servers.map { "\(options.backend)/\($0)" }.joined(separator: ", ")
        while true {
            let sessions = try await api.currentSessions(backend: options.backend, servers: options.servers)
            let waited = start.duration(to: clock.now)
            if sessions == 0 { return "no sessions left on \(names) after \(waited.text)" }
            if waited >= bound {
                let count = sessions == 1 ? "1 session" : "\(sessions) sessions"
                return "stopped waiting after \(bound.text): \(count) still on \(names)"
            }
            try await Task.sleep(for: min(sessionPoll, bound - waited))
        }
    }
}

/// The administrative state a step wants, as the runtime API's `set server` spells it.
enum HAProxyTarget: String, Sendable, Equatable {
    case ready
    case drain
    case maint

    /// Admin state bits (`srv_admin_state`): forced maintenance and forced drain.
    static let forcedMaint: UInt32 = 0x01
    static let forcedDrain: UInt32 = 0x08

    /// The failed primary's steps use the configured mode; the target's steps restore it.
    init(kind: StepKind, mode: HAProxyOptions.Mode) {
        switch (kind.actsOnOldPrimary, mode) {
        case (true, .drain): self = .drain
        case (true, .maint): self = .maint
        case (false, _): self = .ready
        }
    }

    /// Whether a server whose `srv_admin_state` is `state` is in this state.
    func isShown(by state: UInt32) -> Bool {
        switch self {
        case .ready: state & (Self.forcedMaint | Self.forcedDrain) == 0
        case .drain: state & Self.forcedDrain != 0 && state & Self.forcedMaint == 0
        case .maint: state & Self.forcedMaint != 0
        }
    }

    /// The state in a sentence.
    var word: String {
        switch self {
        case .ready: "ready"
        case .drain: "drain"
        case .maint: "maintenance"
        }
    }
}
