import Actions
import Foundation
import Synchronization

@testable import FailoverCore

/// Shared inputs of the Actions tests.
enum Fixture {
    /// A failover of `web` from east to west at epoch 7.
    static func context(kind: RunKind = .failover) -> RunContext {
        RunContext(group: "web", incident: "web-7", kind: kind, from: "east", to: "west", epoch: 7, force: false)
    }

    /// A step running `action` on `site`.
    static func step(
        _ kind: StepKind = .drain, site: String? = "east", action: ResolvedAction = .plugin(.exec(command: ["true"])),
        timeout: Duration = .seconds(30), retries: Int = 2
    ) -> ResolvedStep {
        ResolvedStep(
            index: 1, kind: kind, site: site, action: action, timeout: timeout, retries: retries, onFailure: .abort)
    }

    /// A request to run `command` as a `drain east` step.
    static func exec(_ command: [String], timeout: Duration = .seconds(30), kind: RunKind = .failover) -> ActionRequest
    {
        ActionRequest(
            context: context(kind: kind), step: step(action: .plugin(.exec(command: command))), timeout: timeout)
    }

    /// `sh -c script`.
    static func sh(_ script: String) -> [String] { ["/bin/sh", "-c", script] }
}

/// A fresh temporary directory, removed when the value goes away.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("fo-actions-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// The contents of `name`, without the trailing newline.
    func read(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8).trimmingCharacters(in: .newlines)
    }
}

/// A `StepObserver` that records every call, in order.
final class RecordingObserver: StepObserver {
    enum Call: Equatable {
        case started(step: Int)
        case attemptFailed(attempt: Int, error: String, retryIn: Duration?)
        case finished(result: StepRecord.Result)
    }

    private struct State {
        var calls: [Call] = []
        var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    var calls: [Call] { state.withLock { $0.calls } }

    /// Returns once at least `count` calls were observed.
    func waitForCalls(_ count: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.calls.count >= count { return true }
                s.waiters.append((count, c))
                return false
            }
            if ready { c.resume() }
        }
    }

    private func record(_ call: Call) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.calls.append(call)
            let ready = s.waiters.filter { $0.0 <= s.calls.count }.map(\.1)
            s.waiters.removeAll { $0.0 <= s.calls.count }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    /// The `retryIn` of every failed attempt, in order.
    var retries: [Duration?] {
        calls.compactMap { call in
            if case .attemptFailed(_, _, let retryIn) = call { return .some(retryIn) }
            return nil
        }
    }

    func stepStarted(_ context: RunContext, step: ResolvedStep, at: Timestamp) async {
        record(.started(step: step.index))
    }

    func attemptFailed(
        _ context: RunContext, step: ResolvedStep, attempt: Int, error: ActionError, retryIn: Duration?
    ) async {
        record(.attemptFailed(attempt: attempt, error: error.description, retryIn: retryIn))
    }

    func stepFinished(_ context: RunContext, step: ResolvedStep, outcome: StepOutcome) async {
        record(.finished(result: outcome.record.result))
    }
}
