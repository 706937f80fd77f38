import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How a child process ended.
enum Termination: Sendable, Equatable {
    /// It exited with this status.
    case exited(Int32)
    /// A signal ended it.
    case signaled(Int32)
    /// Its status could not be read (it was reaped elsewhere).
    case lost

    /// Decodes a `waitpid` status (the `WIFEXITED`/`WTERMSIG` macros are not imported).
    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}

/// What a finished child left: how it ended and what it wrote.
struct SubprocessExit: Sendable {
    /// How it ended.
    var termination: Termination
    /// Its stdout (tail, marked lines).
    var stdout: OutputCapture
    /// Its stderr (tail, last line).
    var stderr: OutputCapture
    /// `stop` was called before it ended.
    var stopped: Bool
}

/// One command in its own process group, stdin from /dev/null, stdout and stderr drained
/// by a dedicated monitor thread (so a chatty child never blocks and no Swift concurrency
/// thread waits in `waitpid`). The child is always reaped.
///
/// The child is a guard process leading the group, and the command its only child
/// (`fo_guard_spawn`): when this process dies, even by SIGKILL, the guard kills the
/// command and then the whole group at once, so no command outlives the controller. The
/// guard ignores SIGTERM (the command gets `stop`'s SIGTERM and may trap it) and ends
/// exactly as the command did, so `Termination` is the command's.
final class Subprocess: Sendable {
    private struct State {
        var reaped = false
        var stopped = false
        var exit: SubprocessExit?
        var waiter: CheckedContinuation<SubprocessExit, Never>?
    }

    /// The guard's pid, which is also the process group id.
    let pid: pid_t
    private let state = Mutex(State())

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `argv` (looked up on PATH) with exactly `environment`. Throws
    /// `ActionError.cannotStart` when it cannot be started.
    static func spawn(_ argv: [String], environment: [String: String], reportMarker: String) throws(ActionError)
        -> Subprocess
    {
        guard let program = argv.first, !program.isEmpty else { throw .cannotStart("empty command") }
        let out = try makePipe()
        let err: (read: Int32, write: Int32)
        do {
            err = try makePipe()
        } catch {
            close(out.read)
            close(out.write)
            throw error
        }
        let result = SpawnCall.spawn(argv, environment: environment, stdout: out.write, stderr: err.write)
        close(out.write)
        close(err.write)
        let pid: pid_t
        switch result {
        case .success(let child):
            pid = child
        case .failure(let failure):
            close(out.read)
            close(err.read)
            throw .cannotStart("\(program): \(failure)")
        }
        let child = Subprocess(pid: pid)
        let thread = Thread { child.monitor(stdout: out.read, stderr: err.read, marker: reportMarker) }
        thread.name = "exec-\(pid)"
        thread.start()
        return child
    }

    private static func makePipe() throws(ActionError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard SpawnCall.closeOnExecPipe(&fds) == 0 else {
            throw .cannotStart("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    /// Waits (suspending, not blocking a thread) until the child is reaped and its
    /// output drained. Only one caller may wait.
    func wait() async -> SubprocessExit {
        await withCheckedContinuation { (c: CheckedContinuation<SubprocessExit, Never>) in
            let done = state.withLock { s -> SubprocessExit? in
                if let exit = s.exit { return exit }
                s.waiter = c
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }

    /// Sends SIGTERM to the child's process group now and SIGKILL after `grace` (also to
    /// members left after the leader ended). Does nothing once the child was reaped.
    func stop(grace: Duration) {
        let first = state.withLock { s -> Bool in
            guard !s.stopped && !s.reaped else { return false }
            s.stopped = true
            return true
        }
        guard first else { return }
        signalGroup(SIGTERM)
        let nanos = max(0, Int(grace.milliseconds)) * 1_000_000
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanos)) { [self] in
            // The group id stays reserved while any member lives, so this reaches only
            // members of the child's group even after the leader was reaped.
            kill(-pid, SIGKILL)
        }
    }

    private func signalGroup(_ signal: Int32) {
        state.withLock { s in
            if !s.reaped { _ = kill(-pid, signal) }
        }
    }

    // MARK: monitor thread

    private func monitor(stdout: Int32, stderr: Int32, marker: String) {
        var streams = [Stream(fd: stdout, capture: OutputCapture(marker: marker)), Stream(fd: stderr)]
        var status = drain(&streams)
        if status == nil { status = blockingReap() }
        for i in streams.indices where streams[i].fd >= 0 { close(streams[i].fd) }
        let out = streams[0].finished, err = streams[1].finished
        let (exit, waiter) = state.withLock { s -> (SubprocessExit, CheckedContinuation<SubprocessExit, Never>?) in
            let termination = status.map(Termination.init(waitStatus:)) ?? .lost
            let exit = SubprocessExit(termination: termination, stdout: out, stderr: err, stopped: s.stopped)
            s.exit = exit
            defer { s.waiter = nil }
            return (exit, s.waiter)
        }
        waiter?.resume(returning: exit)
    }

    private struct Stream {
        var fd: Int32
        var capture = OutputCapture()
        var finished: OutputCapture {
            var c = capture
            c.finish()
            return c
        }
    }

    /// Reads both pipes until both are closed (returns nil) or the child is gone while a
    /// grandchild still holds them (returns its wait status after a last read).
    private func drain(_ streams: inout [Stream]) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while streams.contains(where: { $0.fd >= 0 }) {
            var fds = streams.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), 200)
            if ready < 0 && errno != EINTR { return nil }
            for i in streams.indices where streams[i].fd >= 0 && fds[i].revents != 0 {
                read(&streams[i], into: &buffer)
            }
            if let status = tryReap() {
                lastRead(&streams, into: &buffer)
                return status
            }
        }
        return nil
    }

    private func lastRead(_ streams: inout [Stream], into buffer: inout [UInt8]) {
        for i in streams.indices where streams[i].fd >= 0 {
            var fds = [pollfd(fd: streams[i].fd, events: Int16(POLLIN), revents: 0)]
            while streams[i].fd >= 0, poll(&fds, 1, 0) > 0 { read(&streams[i], into: &buffer) }
        }
    }

    private func read(_ stream: inout Stream, into buffer: inout [UInt8]) {
        let count = buffer.withUnsafeMutableBytes { Glibc.read(stream.fd, $0.baseAddress, $0.count) }
        if count > 0 {
            buffer.withUnsafeBytes { stream.capture.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
            close(stream.fd)
            stream.fd = -1
        }
    }

    /// The wait status when the child has ended (reaping it), else nil.
    private func tryReap() -> Int32? {
        state.withLock { s -> Int32? in
            guard !s.reaped else { return nil }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
            s.reaped = true
            return status
        }
    }

    /// Blocks this (monitor) thread until the child ends, then reaps it. The wait leaves
    /// the child a zombie so its pid stays reserved until the reap under the lock.
    private func blockingReap() -> Int32? {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        return tryReap()
    }
}
