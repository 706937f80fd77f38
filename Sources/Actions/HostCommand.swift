import FailoverCore
import Foundation

/// What a command run on a database host wrote.
public struct HostCommandOutput: Sendable, Equatable {
    /// The last 4 KiB of its stdout.
    public var stdout: String
    /// The last 4 KiB of its stderr (over ssh, with ssh's own messages).
    public var stderr: String

    /// Creates an output.
    public init(stdout: String, stderr: String) {
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs one command (argv, never shell text) on a `DatabaseHost`: on this machine (as
/// `runAs` through `runuser -u USER --` when set), or on the remote host through the
/// system's OpenSSH client in batch mode (the user's keys, `known_hosts` and ssh config
/// apply; `runAs` is ignored, the destination's user runs it).
///
/// Guarantees:
/// - Bounded: at `timeout`, or when its task is cancelled, the local process group (the
///   command, `runuser` or `ssh`) gets SIGTERM, then SIGKILL after `killGrace`; the child
///   is always reaped and the call throws `timedOut`. Over ssh the remote command is
///   stopped too: it runs under a watchdog that ends its process group once its ssh
///   session is gone (within about a second).
/// - Exit 0 is success. ssh's own failures (exit 255) are classified from its stderr:
///   a refused key, an unknown or changed host key, an unusable identity file or a bad
///   ssh config are permanent; a connection timed out, refused, closed, unroutable or a
///   name that does not resolve is retryable. Any other exit is a retryable failure naming
///   the program and the last line of stderr.
/// - Errors never show the arguments (a `pg_rewind --source-server` may carry a
///   password) nor anything that looks like key material.
public struct HostCommand: Sendable {
    /// The host commands run on.
    public let host: DatabaseHost
    private let exec: ExecAction

    /// Creates a runner for `host`; `clock` times each command's timeout.
    public init(host: DatabaseHost, clock: any Clock<Duration> = ContinuousClock(), killGrace: Duration = .seconds(2)) {
        self.host = host
        exec = ExecAction(killGrace: killGrace, clock: clock)
    }

    /// Runs `argv` on the host and waits at most `timeout` for it; see the type's guarantees.
    public func run(_ argv: [String], timeout: Duration) async throws(ActionError) -> HostCommandOutput {
        guard let program = argv.first, !program.isEmpty else { throw .cannotStart("empty command") }
        let exit = try await exec.run(
            invocation(argv), environment: ProcessInfo.processInfo.environment, timeout: timeout)
        try check(exit, argv: argv, timeout: timeout)
        return HostCommandOutput(stdout: exit.stdout.tail, stderr: exit.stderr.tail)
    }

    /// The command line spawned on this machine for `argv`.
    func invocation(_ argv: [String]) -> [String] {
        switch host.access {
        case .local:
            guard let user = host.runAs else { return argv }
            return ["/usr/sbin/runuser", "-u", user, "--"] + argv
        case .ssh(let target):
            return SSHInvocation(target: target).argv(remote: argv)
        }
    }

    /// Throws the error an unsuccessful exit means.
    func check(_ exit: SubprocessExit, argv: [String], timeout: Duration) throws(ActionError) {
        if exit.termination == .exited(0) { return }
        var name = ExecAction.displayName(argv)
        if case .ssh(let target) = host.access {
            if exit.termination == .exited(255), !exit.stopped, let failure = SSHFailure(stderr: exit.stderr.tail) {
                throw failure.error(destination: target.destination)
            }
            name += " on \(target.destination)"
        }
        if exit.stopped { throw .timedOut(after: timeout, detail: "\(name) was stopped") }
        let status: String
        switch exit.termination {
        case .exited(let code): status = "\(name) exited with status \(code)"
        case .signaled(let signal): status = "\(name) was killed by signal \(signal)"
        case .lost: status = "\(name) ended with an unknown status"
        }
        let line = KeyMaterial.scrub(exit.stderr.lastLine)
        throw .failed(line.isEmpty ? status : "\(status): \(line)", retryable: true)
    }
}

/// Keeps key material out of messages. ssh never prints a private key, but its stderr
/// and a remote command's reach errors, events and logs, so anything shaped like one
/// goes: a line mentioning a private key, and every long base64-looking run (a key body
/// line, a key blob) with upper- and lower-case letters and digits.
enum KeyMaterial {
    /// The shortest run removed.
    static let minimumRun = 20

    /// `text` with key-shaped runs replaced by `[redacted]`, cut to 200 characters.
    static func scrub(_ text: String) -> String {
        if text.localizedCaseInsensitiveContains("PRIVATE KEY") { return "[line with key material removed]" }
        var out = ""
        var run = ""
        for character in text + "\n" {
            if isBase64(character) {
                run.append(character)
                continue
            }
            out += looksLikeKey(run) ? "[redacted]" : run
            run = ""
            out.append(character)
        }
        return String(out.dropLast().prefix(200))
    }

    private static func isBase64(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "+" || c == "/" || c == "=")
    }

    private static func looksLikeKey(_ run: String) -> Bool {
        run.count >= minimumRun && run.contains(where: \.isUppercase) && run.contains(where: \.isLowercase)
            && run.contains(where: \.isNumber)
    }
}
