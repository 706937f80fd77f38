import FailoverCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One request line and its whole reply over a fresh stream socket (TCP or unix), as
/// HAProxy's runtime API works in its default non-interactive mode: connect, send one
/// line, read until the server closes.
///
/// Guarantees: the blocking work runs on a dedicated thread, never on a Swift concurrency
/// thread; connect, send and read together take at most `timeout`; cancelling the calling
/// task wakes the thread at once (through a pipe it polls beside the socket), closes the
/// socket and makes `exchange` throw `CancellationError`. Every descriptor is closed.
enum SocketExchange {
    /// Why an exchange failed.
    enum Failure: Error, Sendable, Equatable {
        /// The address could not be resolved or the socket not created (errno text).
        case setup(String)
        /// The connect was refused or failed (errno text).
        case connect(String)
        /// Sending or reading failed after connecting (errno text).
        case io(String)
        /// `timeout` passed in this phase (`connect`, `send`, `reply`).
        case timedOut(phase: String)
        /// The reply was longer than the limit.
        case tooLarge(Int)
    }

    /// The largest reply kept (a `show stat` of a big configuration is a few hundred KiB).
    static let replyLimit = 8 << 20

    /// Sends `line` plus a newline to `address` and returns everything the server wrote
    /// before closing. Throws `Failure` or `CancellationError`.
    static func exchange(_ line: String, with address: HAProxyOptions.Admin, timeout: Duration) async throws -> String {
        let wake = try WakePipe()
        let deadline = ContinuousClock.now + timeout
        let result: Result<String, Failure>? = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    let outcome = SocketConnection.run(line, address: address, deadline: deadline, wake: wake)
                    wake.close()
                    continuation.resume(returning: outcome)
                }
                thread.name = "haproxy-api"
                thread.start()
            }
        } onCancel: {
            wake.signal()
        }
        guard let result else { throw CancellationError() }
        return try result.get()
    }
}

/// A non-blocking pipe whose read end the exchange thread polls: a byte written to it means
/// "stop now". Writes after `close` are ignored, so a late cancellation never touches a
/// reused descriptor.
final class WakePipe: Sendable {
    private let fds: Mutex<(read: Int32, write: Int32)?>
    /// The read end, valid until `close`.
    let readEnd: Int32

    init() throws(SocketExchange.Failure) {
        var pair: [Int32] = [-1, -1]
        guard SpawnCall.closeOnExecPipe(&pair) == 0 else {
            throw .setup("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        // Non-blocking, so a burst of cancellations never blocks the cancelling thread.
        _ = fcntl(pair[1], F_SETFL, fcntl(pair[1], F_GETFL) | O_NONBLOCK)
        readEnd = pair[0]
        fds = Mutex((pair[0], pair[1]))
    }

    /// Wakes the thread polling `readEnd` (no-op after `close`).
    func signal() {
        fds.withLock { fds in
            guard let fds else { return }
            var byte: UInt8 = 1
            _ = Glibc.write(fds.write, &byte, 1)
        }
    }

    /// Closes both ends; idempotent.
    func close() {
        fds.withLock { fds in
            guard let pair = fds else { return }
            _ = Glibc.close(pair.read)
            _ = Glibc.close(pair.write)
            fds = nil
        }
    }

    deinit { close() }
}
