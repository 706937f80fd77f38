import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid`, for tests that
/// start, kill and wait for many processes.
///
/// Foundation's `Process` watches each child's exit from a monitoring thread; under the
/// integration suites it was seen to miss an exit, leaving a zombie child and
/// `waitUntilExit()` waiting forever. Here the test itself reaps its child.
public final class ChildProcess: @unchecked Sendable {
    /// The child's pid.
    public let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// Spawns `argv` (absolute program path first) with `environment`, stdin from
    /// /dev/null and stdout and stderr appended to `outputPath` (or to the given pipes' write
    /// ends). Signals are unblocked and reset to default in the child.
    public init(_ argv: [String], environment: [String: String], outputPath: String? = nil, stdout: Int32? = nil, stderr: Int32? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
            if let stderr { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let args = argv.map { strdup($0) } + [nil]
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            args.forEach { free($0) }
            env.forEach { free($0) }
        }
        var child = pid_t()
        let rc = posix_spawn(&child, argv[0], &actions, &attributes, args, env)
        guard rc == 0 else { throw HarnessError(.startFailed, "cannot spawn \(argv[0]): \(String(cString: strerror(rc)))") }
        pid = child
    }

    /// Whether the child still runs (reaps it when it has ended).
    public var isRunning: Bool { poll() == nil }

    /// The exit status when ended: the exit code, or the signal's number when killed by one.
    public var terminationStatus: Int32? { poll() }

    /// Sends `signal` (when still running) and waits until the child has ended; returns its
    /// termination status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        if isRunning { kill(pid, signal) }
        return wait()
    }

    /// Waits until the child has ended; returns its termination status.
    @discardableResult
    public func wait() -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        while status == nil {
            var raw: Int32 = 0
            let rc = waitpid(pid, &raw, 0)
            if rc == pid { status = Self.decode(raw) } else if rc < 0 && errno != EINTR { status = -1 }
        }
        return status ?? -1
    }

    private func poll() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        let rc = waitpid(pid, &raw, WNOHANG)
        if rc == pid { status = Self.decode(raw) } else if rc < 0 && errno != EINTR { status = -1 }
        return status
    }

    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : signal
    }

    /// Runs `argv` to its end and returns its exit status and output (read on two threads,
    /// so a chatty child never blocks on a full pipe).
    public static func run(_ argv: [String], environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else { throw HarnessError(.system, "pipe: \(String(cString: strerror(errno)))") }
        // No other child may inherit these (its exit would then not close them).
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let child: ChildProcess
        do {
            child = try ChildProcess(argv, environment: environment, stdout: out[1], stderr: err[1])
        } catch {
            [out[0], out[1], err[0], err[1]].forEach { _ = Glibc.close($0) }
            throw error
        }
        _ = Glibc.close(out[1])
        _ = Glibc.close(err[1])
        let stderrText = Collected()
        let errRead = err[0]
        let reader = Thread { stderrText.set(readAll(errRead)) }
        reader.start()
        let stdoutData = readAll(out[0])
        let status = child.wait()
        let errData = stderrText.wait()
        return (status, String(decoding: stdoutData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    private static func readAll(_ fd: Int32) -> Data {
        defer { _ = Glibc.close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data.append(contentsOf: buffer[0..<n]) } else if n == 0 || errno != EINTR { break }
        }
        return data
    }

    /// Output collected by another thread, handed over once.
    private final class Collected: @unchecked Sendable {
        private let ready = DispatchSemaphore(value: 0)
        private var data = Data()
        func set(_ value: Data) {
            data = value
            ready.signal()
        }
        func wait() -> Data {
            ready.wait()
            return data
        }
    }
}
