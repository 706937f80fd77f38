import FailoverCore
import Synchronization

/// A `Prober` that answers from a script per check name and records every call.
public final class ScriptedProber: Prober {
    private struct State {
        var scripts: [String: [Diagnosis]] = [:]
        var defaults: [String: Diagnosis] = [:]
        var calls: [(check: String, at: Timestamp)] = []
    }

    private let state = Mutex(State())

    /// Creates a prober whose checks pass unless scripted otherwise.
    public init() {}

    /// Queues diagnoses for `check`, used one per probe; afterwards `then` repeats.
    public func script(_ check: String, _ diagnoses: [Diagnosis], then: Diagnosis = .ok) {
        state.withLock {
            $0.scripts[check, default: []].append(contentsOf: diagnoses)
            $0.defaults[check] = then
        }
    }

    /// Makes every later probe of `check` return `diagnosis`.
    public func set(_ check: String, _ diagnosis: Diagnosis) {
        state.withLock {
            $0.scripts[check] = []
            $0.defaults[check] = diagnosis
        }
    }

    /// Every probe made so far, in order.
    public var calls: [(check: String, at: Timestamp)] { state.withLock { $0.calls } }

    /// Returns the next scripted diagnosis for the check.
    public func probe(_ check: CheckConfig, timeout: Duration, at: Timestamp) async -> ProbeResult {
        let diagnosis = state.withLock { s -> Diagnosis in
            s.calls.append((check.name, at))
            if var queue = s.scripts[check.name], !queue.isEmpty {
                let next = queue.removeFirst()
                s.scripts[check.name] = queue
                return next
            }
            return s.defaults[check.name] ?? .ok
        }
        var status: Int? = nil
        if case .unexpectedStatus(let code) = diagnosis { status = code }
        return ProbeResult(
            check: check.name, kind: check.kind.label, at: at, diagnosis: diagnosis,
            timings: ProbeTimings(total: 1), status: status,
            error: diagnosis == .ok ? nil : "scripted \(diagnosis.label)")
    }
}
