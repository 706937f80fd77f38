import Actions
import FailoverCore
import Testing

/// The group pre hook: exit 0 allows, anything else vetoes with a reason.
@Suite struct HookTests {
    @Test func exitZeroAllowsWithThePreEnvironment() async throws {
        let dir = try Scratch()
        let script = #"echo "$FAILOVER_STEP $FAILOVER_GROUP $FAILOVER_EPOCH ${FAILOVER_SITE-none}" > "$1""#
        let result = try await ExecAction().runHook(
            command: ["/bin/sh", "-c", script, "sh", dir.path("env")], context: Fixture.context(), timeout: .seconds(30)
        )
        #expect(result.allowed)
        #expect(result.detail == "pre hook sh allowed the failover (exit 0)")
        #expect(try dir.read("env") == "pre web 7 none")
    }

    @Test func exitOneVetoesWithTheReason() async throws {
        let result = try await ExecAction().runHook(
            command: Fixture.sh("echo 'change freeze until 18:00' >&2; exit 1"), context: Fixture.context(),
            timeout: .seconds(30))
        #expect(!result.allowed)
        #expect(result.detail == "pre hook vetoed the failover: sh exited with status 1: change freeze until 18:00")
    }

    @Test func aHookThatDoesNotFinishVetoes() async throws {
        let start = ContinuousClock.now
        let result = try await ExecAction().runHook(
            command: Fixture.sh("sleep 60"), context: Fixture.context(), timeout: .milliseconds(300))
        #expect(!result.allowed)
        #expect(result.detail == "pre hook vetoed the failover: timed out after 300ms: sh was stopped")
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func aHookThatCannotStartVetoes() async throws {
        let result = try await ExecAction().runHook(
            command: ["/nonexistent/hook"], context: Fixture.context(), timeout: .seconds(30))
        #expect(!result.allowed)
        #expect(result.detail.hasPrefix("pre hook vetoed the failover: cannot start: /nonexistent/hook"))
    }

    @Test func noHookAllows() async throws {
        let result = try await ExecAction().runHook(command: [], context: Fixture.context(), timeout: .seconds(1))
        #expect(result.allowed)
    }

    @Test func aCancelledHookThrowsInsteadOfVetoing() async throws {
        let task = Task {
            try await ExecAction().runHook(
                command: Fixture.sh("sleep 60"), context: Fixture.context(), timeout: .seconds(60))
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
