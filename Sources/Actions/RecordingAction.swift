import Synchronization

/// An in-memory `ActionPlugin` for tests: records every request and answers from a
/// script, one answer per call, then `otherwise` for every later call.
///
/// It keeps the plugin guarantees a test relies on: `.hang` waits until its task is
/// cancelled and then throws `CancellationError`. `waitForCalls(_:)` lets a test wait
/// until the code under test has called it, without sleeping.
public final class RecordingAction: ActionPlugin {
    /// How one call is answered.
    public enum Answer: Sendable {
        /// Return this report.
        case succeed(ActionReport)
        /// Throw this error.
        case fail(ActionError)
        /// Wait until cancelled, then throw `CancellationError`.
        case hang

        /// A retryable failure with `detail`.
        public static func retryable(_ detail: String) -> Answer { .fail(.failed(detail, retryable: true)) }
        /// A permanent failure with `detail`.
        public static func permanent(_ detail: String) -> Answer { .fail(.permanent(detail)) }
        /// A success reporting `changed`.
        public static func ok(_ changed: String...) -> Answer { .succeed(ActionReport(changed: changed)) }
    }

    private struct State {
        var script: [Answer]
        var requests: [ActionRequest] = []
        var cancellations = 0
        var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>
    private let otherwise: Answer

    /// Creates a plugin answering `script` in order, then `otherwise` (default: success).
    public init(script: [Answer] = [], otherwise: Answer = .succeed(ActionReport())) {
        state = Mutex(State(script: script))
        self.otherwise = otherwise
    }

    /// Every request received so far, in order.
    public var requests: [ActionRequest] { state.withLock { $0.requests } }

    /// How many calls were made.
    public var callCount: Int { state.withLock { $0.requests.count } }

    /// How many `.hang` calls ended because their task was cancelled.
    public var cancellations: Int { state.withLock { $0.cancellations } }

    /// Returns once at least `count` calls have been made.
    public func waitForCalls(_ count: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.requests.count >= count { return true }
                s.waiters.append((count, c))
                return false
            }
            if ready { c.resume() }
        }
    }

    /// Records `request` and answers with the next scripted answer.
    public func perform(_ request: ActionRequest) async throws -> ActionReport {
        let (answer, ready) = state.withLock { s -> (Answer, [CheckedContinuation<Void, Never>]) in
            s.requests.append(request)
            let answer = s.script.isEmpty ? otherwise : s.script.removeFirst()
            let ready = s.waiters.filter { $0.0 <= s.requests.count }.map(\.1)
            s.waiters.removeAll { $0.0 <= s.requests.count }
            return (answer, ready)
        }
        ready.forEach { $0.resume() }
        switch answer {
        case .succeed(let report): return report
        case .fail(let error): throw error
        case .hang: return try await hang()
        }
    }

    private func hang() async throws -> ActionReport {
        do {
            while true { try await Task.sleep(for: .seconds(3_600)) }
        } catch {
            state.withLock { $0.cancellations += 1 }
            throw CancellationError()
        }
    }
}
