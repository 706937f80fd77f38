import Actions
import FailoverCore
import FailoverTesting
import Testing

/// The step runner with recording plugins: attempts, retries, timeouts, cancellation.
@Suite struct StepRunnerTests {
    /// A runner whose `exec` actions go to `plugin`, with a 1 ms backoff on the real clock.
    private func runner(
        _ plugin: RecordingAction, observer: RecordingObserver, clock: any Clock<Duration> = ContinuousClock(),
        backoff: Backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(4)), verify: (any ActionPlugin)? = nil
    ) -> StepRunner {
        StepRunner(
            registry: PluginRegistry(verify: verify, plugins: ["exec": plugin]), observer: observer, clock: clock,
            wallClock: ManualWallClock(), backoff: backoff)
    }

    @Test func retriesUntilTheThirdAttemptSucceeds() async throws {
        let plugin = RecordingAction(script: [.retryable("lb busy"), .retryable("lb still busy"), .ok("drained east")])
        let observer = RecordingObserver()
        let outcome = try await runner(plugin, observer: observer).run(Fixture.step(), context: Fixture.context())
        #expect(outcome.record.result == .ok)
        #expect(outcome.record.attempts == 3)
        #expect(outcome.record.changed == ["drained east"])
        #expect(outcome.record.error == nil)
        #expect(plugin.requests.map(\.attempt) == [1, 2, 3])
        #expect(plugin.requests.allSatisfy { $0.timeout == .seconds(30) && $0.context == Fixture.context() })
        #expect(
            observer.calls == [
                .started(step: 1),
                .attemptFailed(attempt: 1, error: "lb busy", retryIn: .milliseconds(1)),
                .attemptFailed(attempt: 2, error: "lb still busy", retryIn: .milliseconds(2)),
                .finished(result: .ok),
            ])
    }

    @Test func aPermanentErrorIsNotRetried() async throws {
        let plugin = RecordingAction(script: [.permanent("backend web does not exist")])
        let observer = RecordingObserver()
        let outcome = try await runner(plugin, observer: observer).run(Fixture.step(), context: Fixture.context())
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 1)
        #expect(outcome.record.error == "failed permanently: backend web does not exist")
        #expect(observer.retries == [nil])
    }

    @Test func exhaustedRetriesFailWithTheLastError() async throws {
        let plugin = RecordingAction(script: [.retryable("first")], otherwise: .retryable("last"))
        let observer = RecordingObserver()
        let outcome = try await runner(plugin, observer: observer).run(
            Fixture.step(retries: 2), context: Fixture.context())
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 3)
        #expect(outcome.record.error == "last")
        #expect(observer.retries == [.milliseconds(1), .milliseconds(2), nil])
        #expect(observer.calls.last == .finished(result: .failed))
    }

    @Test func eachAttemptIsCancelledAtTheStepTimeout() async throws {
        let clock = ManualClock()
        let plugin = RecordingAction(otherwise: .hang)
        let observer = RecordingObserver()
        let runner = runner(plugin, observer: observer, clock: clock, backoff: Backoff())
        let step = Fixture.step(timeout: .seconds(5), retries: 1)
        let task = Task { try await runner.run(step, context: Fixture.context()) }
        await plugin.waitForCalls(1)
        await clock.waitForSleepers(1)  // attempt 1's deadline
        clock.advance(by: .seconds(5))
        await clock.waitForSleepers(1)  // the 1 s backoff
        #expect(plugin.callCount == 1)
        clock.advance(by: .seconds(1))
        await plugin.waitForCalls(2)
        await clock.waitForSleepers(1)  // attempt 2's deadline
        clock.advance(by: .seconds(5))
        let outcome = try await task.value
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 2)
        #expect(outcome.record.error == "timed out after 5s")
        #expect(plugin.cancellations == 2)
        #expect(observer.retries == [.seconds(1), nil])
    }

    @Test func skipEndsSkippedWithoutAnAttempt() async throws {
        let plugin = RecordingAction()
        let observer = RecordingObserver()
        let step = Fixture.step(.dns, site: "west", action: .skip(reason: "site west has no dns action"))
        let outcome = try await runner(plugin, observer: observer).run(step, context: Fixture.context())
        #expect(outcome.record.result == .skipped)
        #expect(outcome.record.attempts == 0)
        #expect(plugin.callCount == 0)
        #expect(observer.calls == [.started(step: 1), .finished(result: .skipped)])
    }

    @Test func unavailableFailsWithoutAnAttempt() async throws {
        let plugin = RecordingAction()
        let observer = RecordingObserver()
        let step = Fixture.step(.fence, action: .unavailable(reason: "site east has no fence action"))
        let outcome = try await runner(plugin, observer: observer).run(step, context: Fixture.context())
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 0)
        #expect(outcome.record.error == "site east has no fence action")
        #expect(plugin.callCount == 0)
        #expect(observer.calls == [.started(step: 1), .finished(result: .failed)])
    }

    @Test func verifyGoesToTheInjectedPluginAndCarriesTheReport() async throws {
        let restored = Timestamp(milliseconds: 1_767_225_601_234)
        let verify = RecordingAction(script: [.succeed(ActionReport(changed: ["west answers"], restoredAt: restored))])
        let step = Fixture.step(.verify, site: "west", action: .verify(site: "west"))
        let runner = runner(RecordingAction(), observer: RecordingObserver(), verify: verify)
        let outcome = try await runner.run(step, context: Fixture.context())
        #expect(outcome.record.result == .ok)
        #expect(outcome.restoredAt == restored)
        #expect(verify.requests.map(\.site) == ["west"])
    }

    @Test func aVerifyStepWithoutAVerifyPluginFails() async throws {
        let step = Fixture.step(.verify, site: "west", action: .verify(site: "west"))
        let outcome = try await runner(RecordingAction(), observer: RecordingObserver()).run(
            step, context: Fixture.context())
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 0)
        #expect(outcome.record.error?.hasPrefix("no plugin can run verify west") == true)
    }

    @Test func theOutcomeCarriesLagTTLAndTimes() async throws {
        let lag = ReplicationLag(bytes: 0, seconds: 0)
        let plugin = RecordingAction(script: [
            .succeed(ActionReport(changed: ["promoted west"], lag: lag, dnsTTL: .seconds(60)))
        ])
        let wall = ManualWallClock()
        let runner = StepRunner(registry: PluginRegistry(plugins: ["exec": plugin]), wallClock: wall)
        let outcome = try await runner.run(Fixture.step(.promote, site: "west"), context: Fixture.context())
        #expect(outcome.lag == lag)
        #expect(outcome.dnsTTL == .seconds(60))
        #expect(outcome.record.startedAt == wall.now() && outcome.record.endedAt == wall.now())
        #expect(outcome.record.kind == .promote && outcome.record.site == "west" && outcome.record.index == 1)
    }

    @Test func cancellationStopsTheAttemptWithoutFinishingTheStep() async throws {
        let plugin = RecordingAction(otherwise: .hang)
        let observer = RecordingObserver()
        let runner = runner(plugin, observer: observer)
        let task = Task { try await runner.run(Fixture.step(timeout: .seconds(600)), context: Fixture.context()) }
        await plugin.waitForCalls(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(plugin.cancellations == 1)
        #expect(observer.calls == [.started(step: 1)])
    }

    @Test func cancellationDuringBackoffStopsWithoutFinishingTheStep() async throws {
        let plugin = RecordingAction(script: [.retryable("busy")])
        let observer = RecordingObserver()
        let runner = runner(plugin, observer: observer, backoff: Backoff(base: .seconds(3_600), cap: .seconds(3_600)))
        let task = Task { try await runner.run(Fixture.step(), context: Fixture.context()) }
        await observer.waitForCalls(2)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(plugin.callCount == 1)
        #expect(observer.calls.count == 2)
    }

    @Test func aCommandThatCannotStartIsTriedOnce() async throws {
        let observer = RecordingObserver()
        let runner = StepRunner(
            registry: PluginRegistry(), observer: observer, backoff: Backoff(base: .milliseconds(1)))
        let step = Fixture.step(action: .plugin(.exec(command: ["/nonexistent/drain"])), retries: 3)
        let outcome = try await runner.run(step, context: Fixture.context())
        #expect(outcome.record.result == .failed)
        #expect(outcome.record.attempts == 1)
        #expect(outcome.record.error?.hasPrefix("cannot start: /nonexistent/drain") == true)
    }

    @Test func backoffDoublesFromTheBaseUpToTheCap() {
        let delays = (1...8).map { Backoff().delay(afterAttempt: $0) }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30, 30].map { Duration.seconds($0) })
        let short = Backoff(base: .milliseconds(250), cap: .seconds(1))
        #expect((1...4).map(short.delay(afterAttempt:)) == [250, 500, 1_000, 1_000].map { Duration.milliseconds($0) })
        #expect(Backoff().delay(afterAttempt: 10_000) == .seconds(30))
        #expect(Backoff(base: .seconds(60), cap: .seconds(30)).delay(afterAttempt: 1) == .seconds(30))
    }

    @Test func theRegistryMapsActionsToPlugins() {
        let injected = RecordingAction()
        let plain = PluginRegistry()
        #expect(plain.plugin(for: .plugin(.exec(command: ["true"]))) is ExecAction)
        #expect(plain.plugin(for: .verify(site: "west")) == nil)
        #expect(plain.plugin(for: .skip(reason: "none")) == nil)
        #expect(plain.plugin(for: .unavailable(reason: "none")) == nil)
        let custom = PluginRegistry(verify: injected, plugins: ["exec": injected])
        #expect(custom.plugin(for: .plugin(.exec(command: ["true"]))) as? RecordingAction === injected)
        #expect(custom.plugin(for: .verify(site: "west")) as? RecordingAction === injected)
    }
}
