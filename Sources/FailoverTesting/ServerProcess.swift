import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real server started by a test: one child process whose stdout and stderr go to a
/// log file, a readiness wait that fails with the log's tail, and a bounded stop.
///
/// A server that cannot start is a test failure, never a skip: every failure here
/// throws a `HarnessError` whose description carries the last lines of the log.
public final class ServerProcess: @unchecked Sendable {
    /// A short name for messages (`nginx`, `etcd`).
    public let name: String
    /// The file receiving the child's stdout and stderr.
    public let logPath: String
    private let process = Process()
    /// The log directory when this object made it (removed by `deinit`).
    private let ownedDirectory: URL?
    private let lock = NSLock()
    private var stopped = false

    /// Launches `executable` with `arguments`; `environment` is merged over this
    /// process's. The log goes to `logDirectory` (a fresh temporary directory by default).
    public init(
        name: String, executable: String, arguments: [String] = [], environment: [String: String] = [:],
        workingDirectory: URL? = nil, logDirectory: URL? = nil
    ) throws {
        self.name = name
        ownedDirectory = logDirectory == nil ? try TemporaryDirectory.make(prefix: "fo-\(name)") : nil
        let directory = logDirectory ?? ownedDirectory!
        logPath = directory.appendingPathComponent("\(name).log").path
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
            let log = FileHandle(forWritingAtPath: logPath)
        else { throw HarnessError(.startFailed, "\(name): cannot create the log file \(logPath)") }
        defer { try? log.close() }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do {
            try Self.launchWithSignalsUnblocked(process)
        } catch {
            throw HarnessError(.startFailed, "\(name): cannot launch \(executable): \(error)")
        }
    }

    /// A child inherits its parent thread's signal mask, and Dispatch threads (Swift's
    /// cooperative pool among them) block SIGTERM: a server spawned from one would never
    /// see `stop()`'s SIGTERM. So spawn from a fresh thread with nothing blocked.
    private static func launchWithSignalsUnblocked(_ process: Process) throws {
        let outcome = LaunchOutcome()
        let thread = Thread {
            var none = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, nil)
            outcome.finish(Result { try process.run() })
        }
        thread.name = "server-process-launch"
        thread.start()
        try outcome.wait().get()
    }

    deinit {
        stop()
        if let ownedDirectory { try? FileManager.default.removeItem(at: ownedDirectory) }
    }

    /// The child's process id.
    public var pid: Int32 { process.processIdentifier }

    /// Whether the child is still running.
    public var isRunning: Bool { process.isRunning }

    /// Polls `probe` every 20 ms until it returns true. Throws, with the log's last 60
    /// lines, when the child exits first or `timeout` passes.
    public func waitUntilReady(timeout: Duration = .seconds(30), probe: () throws -> Bool) throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if try probe() { return }
            if !process.isRunning {
                throw HarnessError(
                    .exited, "\(name) exited with status \(process.terminationStatus) before it was ready",
                    log: logTail(lines: 60))
            }
            if clock.now >= deadline {
                throw HarnessError(
                    .notReady, "\(name) was not ready after \(timeout)", log: logTail(lines: 60))
            }
            usleep(20_000)
        }
    }

    /// Stops the child: SIGTERM, up to `grace` for it to exit, then SIGKILL. Signals
    /// only this child's pid; idempotent. Returns the exit status (nil if never started).
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) -> Int32? {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        let pid = process.processIdentifier
        guard pid > 0 else { return nil }
        if first, process.isRunning {
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + grace
            while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
            if process.isRunning { kill(pid, SIGKILL) }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The last `lines` lines of the log, under a header naming the server.
    public func logTail(lines: Int = 60) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
        return "--- \(name) log \(logPath) (last \(lines) lines) ---\n" + tail.joined(separator: "\n")
    }
}

/// The result of a launch on another thread.
private final class LaunchOutcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Void, any Error> = .success(())

    func finish(_ result: Result<Void, any Error>) {
        self.result = result
        done.signal()
    }

    func wait() -> Result<Void, any Error> {
        done.wait()
        return result
    }
}

/// Blocking harness work (starting servers, waiting for processes) from async tests.
public enum Blocking {
    /// Runs `work` on a dispatch thread and awaits its result, so the blocking waits of
    /// the harness never hold a thread of Swift's small cooperative pool, where the
    /// probes under test resume; otherwise their measured times would include the wait.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// Fresh directories under the system temporary directory.
public enum TemporaryDirectory {
    /// Creates and returns `<tmp>/<prefix>-<random>`.
    public static func make(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw HarnessError(.system, "cannot create \(url.path): \(error)")
        }
        return url
    }
}

/// A test harness could not provide the server, certificate or socket a test needs.
public struct HarnessError: Error, CustomStringConvertible {
    enum Code: String {
        case startFailed = "start failed"
        case exited = "server exited"
        case notReady = "server not ready"
        case command = "command failed"
        case system = "system call failed"
    }

    let code: Code
    /// What went wrong, in one sentence.
    public let message: String
    /// The relevant log output (e.g. a server log's tail), if any.
    public let log: String?

    init(_ code: Code, _ message: String, log: String? = nil) {
        self.code = code
        self.message = message
        self.log = log
    }

    public var description: String {
        let head = "\(code.rawValue): \(message)"
        guard let log, !log.isEmpty else { return head }
        return head + "\n" + log
    }
}
