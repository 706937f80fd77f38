import Actions
import FailoverCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The exec plugin against real child processes (`/bin/sh`).
@Suite struct ExecActionTests {
    @Test func successPassesTheFailoverEnvironment() async throws {
        let dir = try Scratch()
        let script =
            #"echo "$FAILOVER_GROUP $FAILOVER_FROM $FAILOVER_TO $FAILOVER_EPOCH $FAILOVER_STEP "#
            + #"$FAILOVER_INCIDENT $FAILOVER_DRILL $FAILOVER_SITE ${PATH:+path}" > "$1""#
        let report = try await ExecAction().perform(Fixture.exec(["/bin/sh", "-c", script, "sh", dir.path("env")]))
        #expect(try dir.read("env") == "web east west 7 drain web-7 0 east path")
        #expect(report == ActionReport(changed: ["ran sh (exit 0)"]))
    }

    @Test func stepsAndHooksGetTheFencingTokenAndTerm() async throws {
        let dir = try Scratch()
        let context = RunContext(
            group: "web", incident: "web-7", kind: .failover, from: "east", to: "west", epoch: 7, term: 42)
        let step = Fixture.step(
            action: .plugin(.exec(command: Fixture.sh("echo $FAILOVER_TOKEN $FAILOVER_TERM > '\(dir.path("step"))'"))))
        _ = try await ExecAction().perform(ActionRequest(context: context, step: step, timeout: .seconds(30)))
        #expect(try dir.read("step") == "7.42 42")
        let hook = Fixture.sh(
            #"[ "$FAILOVER_TOKEN" = 7.42 ] && [ "$FAILOVER_TERM" = 42 ] && [ "$FAILOVER_STEP" = pre ]"#)
        let allowed = try await ExecAction().runHook(command: hook, context: context, timeout: .seconds(10))
        #expect(allowed.allowed, "\(allowed.detail)")
        let environment = ExecAction.environment(context: context, step: "dns", site: "west", base: [:])
        #expect(environment["FAILOVER_TOKEN"] == context.token.description)
        #expect(FencingToken(environment["FAILOVER_TOKEN"] ?? "") == FencingToken(epoch: 7, term: 42))
    }

    @Test func drillsSetFailoverDrillAndStdinIsEmpty() async throws {
        let dir = try Scratch()
        let request = Fixture.exec(
            Fixture.sh("cat > '\(dir.path("in"))'; echo $FAILOVER_DRILL > '\(dir.path("drill"))'"), kind: .drill)
        _ = try await ExecAction().perform(request)
        #expect(try dir.read("drill") == "1")
        #expect(try dir.read("in") == "")
    }

    @Test func nonZeroExitIsRetryableAndNamesStatusAndLastStderrLine() async throws {
        let script = "echo starting; echo 'first problem' >&2; echo '  backend web has no server east  ' >&2; exit 3"
        let error = try await #require(throws: ActionError.self) {
            try await ExecAction().perform(Fixture.exec(Fixture.sh(script)))
        }
        #expect(error.isRetryable)
        #expect(error.description == "sh exited with status 3: backend web has no server east")
    }

    @Test func stderrIsScrubbedOfSecretsAndCutTo200Characters() async throws {
        let secret = "s3cr3t-token-value"
        let long = String(repeating: "x", count: 300)
        let script = "echo 'login with \(secret) refused \(long)' >&2; exit 1"
        let error = try await #require(throws: ActionError.self) {
            try await ExecAction(secrets: [secret]).perform(Fixture.exec(Fixture.sh(script)))
        }
        #expect(!error.description.contains(secret))
        #expect(error.description.hasPrefix("sh exited with status 1: login with REDACTED refused xxx"))
        #expect(error.detail.count == "sh exited with status 1: ".count + 200)
    }

    @Test func aMissingCommandCannotStartAndIsNotRetried() async throws {
        let error = try await #require(throws: ActionError.self) {
            try await ExecAction().perform(Fixture.exec(["/nonexistent/failover-drain", "east"]))
        }
        #expect(error == .cannotStart(""))
        #expect(!error.isRetryable)
        #expect(error.description.contains("failover-drain"))
        let empty = try await #require(throws: ActionError.self) { try await ExecAction().perform(Fixture.exec([])) }
        #expect(empty == .cannotStart(""))
    }

    @Test func aNonExecActionIsAPermanentError() async throws {
        let request = ActionRequest(
            context: Fixture.context(), step: Fixture.step(.verify, action: .verify(site: "west")))
        let error = try await #require(throws: ActionError.self) { try await ExecAction().perform(request) }
        #expect(error == .permanent(""))
    }

    @Test func reportLinesFillTheReportAndAreScrubbed() async throws {
        let script = """
            echo noise
            echo 'FAILOVER_REPORT lag_bytes=4096'
            echo 'FAILOVER_REPORT lag_seconds=1.5'
            echo 'FAILOVER_REPORT dns_ttl=30s'
            echo 'FAILOVER_REPORT changed=promoted west-db with password hunter2hunter2'
            echo 'FAILOVER_REPORT bogus=1'
            echo 'FAILOVER_REPORT lag_bytes=lots'
            """
        let exec = ExecAction(secrets: ["hunter2hunter2"])
        let report = try await exec.perform(Fixture.exec(Fixture.sh(script)))
        #expect(report.lag == ReplicationLag(bytes: 4096, seconds: 1.5))
        #expect(report.dnsTTL == .seconds(30))
        #expect(report.changed == ["promoted west-db with password REDACTED"])
    }

    @Test func aMegabyteOnEachStreamDoesNotBlock() async throws {
        let script = """
            head -c 1048576 /dev/zero | tr '\\0' x
            head -c 1048576 /dev/zero | tr '\\0' y >&2
            echo; echo 'FAILOVER_REPORT changed=wrote 2 MB'
            """
        let report = try await ExecAction().perform(Fixture.exec(Fixture.sh(script), timeout: .seconds(60)))
        #expect(report.changed == ["wrote 2 MB"])
    }

    @Test func aBackgroundChildHoldingStdoutDoesNotDelayTheResult() async throws {
        let dir = try Scratch()
        let start = ContinuousClock.now
        _ = try await ExecAction().perform(
            Fixture.exec(Fixture.sh("sleep 30 & echo $! > '\(dir.path("bg"))'; echo done")))
        #expect(ContinuousClock.now - start < .seconds(5))
        let pid = try #require(pid_t(try dir.read("bg")))
        kill(pid, SIGKILL)
    }

    @Test func timeoutKillsTheWholeProcessGroup() async throws {
        let dir = try Scratch()
        let script = "echo $$ > '\(dir.path("leader"))'; sleep 60 & echo $! > '\(dir.path("child"))'; sleep 60"
        let start = ContinuousClock.now
        let error = try await #require(throws: ActionError.self) {
            try await ExecAction().perform(Fixture.exec(Fixture.sh(script), timeout: .seconds(1)))
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(error.isTimeout && error.isRetryable)
        #expect(error.description == "timed out after 1s: sh was stopped")
        for name in ["leader", "child"] {
            let pid = try #require(pid_t(try dir.read(name)))
            #expect(await Processes.dead(pid), "\(name) \(pid) survived")
        }
    }

    @Test func aGroupIgnoringSIGTERMIsKilledAfterTheGrace() async throws {
        let dir = try Scratch()
        let script =
            "trap '' TERM; echo $$ > '\(dir.path("leader"))'; sleep 60 & echo $! > '\(dir.path("child"))'; wait"
        let start = ContinuousClock.now
        let exec = ExecAction(killGrace: .milliseconds(300))
        let error = try await #require(throws: ActionError.self) {
            try await exec.perform(Fixture.exec(Fixture.sh(script), timeout: .milliseconds(700)))
        }
        let elapsed = ContinuousClock.now - start
        #expect(error.isTimeout)
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(5))
        for name in ["leader", "child"] {
            let pid = try #require(pid_t(try dir.read(name)))
            #expect(await Processes.dead(pid), "\(name) \(pid) survived")
        }
    }

    /// A cancelled command (the lease's deadline) that ignores SIGTERM is killed after the
    /// short cancel grace, not the timeout's 2 s: well inside the lease's 500 ms margin.
    @Test func aCancelledGroupIgnoringSIGTERMIsKilledWithinTheCancelGrace() async throws {
        let dir = try Scratch()
        let script =
            "trap '' TERM; echo $$ > '\(dir.path("leader"))'; sleep 60 & echo $! > '\(dir.path("child"))'; wait"
        let task = Task { try await ExecAction().perform(Fixture.exec(Fixture.sh(script), timeout: .seconds(120))) }
        while (try? dir.read("child")) == nil { try await Task.sleep(for: .milliseconds(5)) }
        let cancelled = ContinuousClock.now
        task.cancel()
        _ = try? await task.value
        let pids = try ["leader", "child"].map { try #require(pid_t(try dir.read($0))) }
        while !pids.allSatisfy(Processes.isDead), ContinuousClock.now - cancelled < .seconds(3) {
            try await Task.sleep(for: .milliseconds(5))
        }
        let gone = ContinuousClock.now - cancelled
        #expect(pids.allSatisfy(Processes.isDead), "the group survived its cancellation")
        #expect(gone < .milliseconds(450), "gone \(gone) after the cancellation (cancel grace 250 ms)")
    }

    @Test func cancellationStopsTheCommandPromptly() async throws {
        let start = ContinuousClock.now
        let task = Task { try await ExecAction().perform(Fixture.exec(Fixture.sh("sleep 60"), timeout: .seconds(120))) }
        task.cancel()
        let error = try await #require(throws: ActionError.self) { try await task.value }
        #expect(error.isTimeout)
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}

/// Checks on other processes' liveness.
enum Processes {
    /// Whether `pid` has ended (gone, or a zombie its new parent has not reaped yet).
    static func isDead(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).first == "Z"
    }

    /// Whether `pid` ends within `bound`. Polls: signal delivery to another process is
    /// asynchronous, and there is nothing to wait on for a process that is not our child.
    static func dead(_ pid: pid_t, within bound: Duration = .seconds(3)) async -> Bool {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            if isDead(pid) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isDead(pid)
    }
}
