@testable import Actions
import FailoverCore
import FailoverTesting
import Foundation
import Testing

/// Commands on a database host: over ssh against a real sshd on loopback, and locally.
@Suite struct HostCommandTests {
    @Test func aCommandRunsAsTheDestinationUser() async throws {
        let sshd = try await SSHServer.start()
        let output = try await HostCommand(host: sshd.databaseHost()).run(["id", "-un"], timeout: .seconds(10))
        #expect(output.stdout == "postgres\n", "\(sshd.logTail())")
    }

    @Test func argumentsArriveVerbatim() async throws {
        let sshd = try await SSHServer.start()
        let arguments = ["a b", "it's", "$HOME", "x;y", "\"double\"", "", "back\\slash", "*", "$(id)", "`id`"]
        let output = try await HostCommand(host: sshd.databaseHost())
            .run(["printf", "%s\\n"] + arguments, timeout: .seconds(10))
        #expect(output.stdout == arguments.map { $0 + "\n" }.joined())
    }

    @Test func aNonZeroExitNamesTheCommandAndTheLastStderrLine() async throws {
        let sshd = try await SSHServer.start()
        let script = "echo 'first problem' >&2; echo '  cluster 15/main is not running  ' >&2; exit 3"
        let error = try await #require(throws: ActionError.self) {
            try await HostCommand(host: sshd.databaseHost()).run(["sh", "-c", script], timeout: .seconds(10))
        }
        #expect(error.isRetryable)
        #expect(error.description == "sh on postgres@127.0.0.1 exited with status 3: cluster 15/main is not running")
    }

    @Test func aRefusedKeyFailsAtOncePermanentlyWithoutKeyMaterial() async throws {
        let sshd = try await SSHServer.start()
        let wrongKey = try await sshd.makeUnauthorizedKey()
        let command = HostCommand(host: sshd.databaseHost(identityFile: wrongKey))
        let start = ContinuousClock.now
        let error = try await #require(throws: ActionError.self) {
            try await command.run(["id", "-un"], timeout: .seconds(10))
        }
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(error == .permanent(""))
        #expect(
            error.description
                == "failed permanently: ssh to postgres@127.0.0.1 refused the key: Permission denied (publickey)")
        for line in try keyBodyLines(wrongKey) + keyBodyLines(sshd.clientKeyPath) {
            #expect(!error.description.contains(line))
        }
    }

    @Test func aPortNobodyListensOnIsRetryable() async throws {
        let sshd = try await SSHServer.start()
        var target = try #require(sshd.databaseHost().sshTarget)
        target.port = try FreePort.tcp()
        let host = DatabaseHost(access: .ssh(target), dataDirectory: "/var/lib/postgresql/15/main")
        let error = try await #require(throws: ActionError.self) {
            try await HostCommand(host: host).run(["id", "-un"], timeout: .seconds(10))
        }
        #expect(error.isRetryable && !error.isTimeout)
        #expect(error.description.hasPrefix("ssh to postgres@127.0.0.1 failed: "))
        #expect(error.description.contains("Connection refused"))
    }

    @Test func aHostThatNeverAnswersTimesOutWithinTheStepTimeout() async throws {
        let sshd = try await SSHServer.start()
        let silent = try HangingServer()
        var target = try #require(sshd.databaseHost().sshTarget)
        target.port = silent.port
        let host = DatabaseHost(access: .ssh(target), dataDirectory: "/var/lib/postgresql/15/main")
        let start = ContinuousClock.now
        let error = try await #require(throws: ActionError.self) {
            try await HostCommand(host: host).run(["id", "-un"], timeout: .seconds(1))
        }
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(error.isTimeout)
        #expect(await silent.waitForConnections(1))
    }

    @Test func aRemoteCommandStoppedAtTheTimeoutIsNotLeftRunning() async throws {
        let sshd = try await SSHServer.start()
        let sleep = ["sleep", "29.\(Int.random(in: 100_000...999_999))"]
        let command = HostCommand(host: sshd.databaseHost())
        let run = Task { try await command.run(sleep, timeout: .seconds(3)) }
        #expect(await eventually { !processes(running: sleep).isEmpty }, "the remote sleep never started")
        let error = await #expect(throws: ActionError.self) { try await run.value }
        #expect(error?.isTimeout == true)
        #expect(await eventually { processes(running: sleep).isEmpty }, "still running: \(processes(running: sleep))")
    }

    @Test func locallyRunAsRunsTheCommandAsThatUser() async throws {
        let host = DatabaseHost(access: .local, dataDirectory: "/tmp", runAs: "postgres")
        let output = try await HostCommand(host: host).run(["id", "-un"], timeout: .seconds(10))
        #expect(output.stdout == "postgres\n")
        let root = try await HostCommand(host: DatabaseHost(access: .local, dataDirectory: "/tmp"))
            .run(["id", "-un"], timeout: .seconds(10))
        #expect(root.stdout == "root\n")
    }

    @Test func aLocalNonZeroExitNamesTheCommand() async throws {
        let error = try await #require(throws: ActionError.self) {
            try await HostCommand(host: DatabaseHost(access: .local, dataDirectory: "/tmp"))
                .run(["/bin/sh", "-c", "echo 'no such cluster' >&2; exit 2"], timeout: .seconds(10))
        }
        #expect(error.description == "sh exited with status 2: no such cluster")
        let empty = try await #require(throws: ActionError.self) {
            try await HostCommand(host: DatabaseHost(access: .local, dataDirectory: "/tmp")).run(
                [], timeout: .seconds(1))
        }
        #expect(empty == .cannotStart(""))
    }
}

/// The base64 lines of a private key file (its secret body).
private func keyBodyLines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        .filter { !$0.hasPrefix("-----") }.map(String.init)
}

/// The pids of live processes whose argv is exactly `argv` (zombies have none).
private func processes(running argv: [String]) -> [String] {
    let want = Array((argv.joined(separator: "\0") + "\0").utf8)
    let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return pids.filter { pid in
        pid.allSatisfy(\.isNumber)
            && FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map(Array.init) == want
    }
}

/// Polls `condition` every 20 ms until it holds (true) or 10 s pass (false): a remote
/// process starting or ending is not an event this side can await.
private func eventually(_ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return true
}
