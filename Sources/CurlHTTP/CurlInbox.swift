import CCurl
import Foundation

/// The hand-over point between callers (any thread) and the engine's thread: queued
/// jobs, cancellations and the stop flag, behind one lock. Every change wakes the
/// thread out of `curl_multi_poll` with `curl_multi_wakeup`.
final class CurlInbox: @unchecked Sendable {
    /// What the engine's thread takes on each turn of its loop.
    struct Batch {
        /// New jobs, in submission order.
        var jobs: [CurlJob] = []
        /// Ids among `jobs` (or earlier) whose task was cancelled.
        var cancelled: Set<UInt64> = []
        /// Set once the engine is shutting down.
        var stopped = false
    }

    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    private var pending: [CurlJob] = []
    private var newCancels: Set<UInt64> = []
    // Cancelled ids stay here until `forget`, so a cancellation that arrives before its
    // job (an already-cancelled task) still applies.
    private var cancelled: Set<UInt64> = []
    private var live: Set<UInt64> = []
    private var lastID: UInt64 = 0
    private var stopped = false

    init(multi: UnsafeMutableRawPointer) {
        self.multi = multi
    }

    func nextID() -> UInt64 {
        lock.withLock {
            lastID &+= 1
            live.insert(lastID)
            return lastID
        }
    }

    func submit(_ job: CurlJob) {
        let accepted = lock.withLock {
            guard !stopped else { return false }
            pending.append(job)
            return true
        }
        guard accepted else {
            job.continuation.resume(returning: HTTPResponse(error: .cancelled))
            return
        }
        curl_multi_wakeup(multi)
    }

    func cancel(_ id: UInt64) {
        lock.withLock {
            cancelled.insert(id)
            newCancels.insert(id)
        }
        curl_multi_wakeup(multi)
    }

    /// Drops every trace of `id` once its caller has its response.
    func forget(_ id: UInt64) {
        lock.withLock {
            live.remove(id)
            cancelled.remove(id)
            newCancels.remove(id)
        }
    }

    func stop() {
        lock.withLock { stopped = true }
        curl_multi_wakeup(multi)
    }

    /// Takes everything queued since the last call (engine thread only).
    func take() -> Batch {
        lock.withLock {
            var batch = Batch(jobs: pending, cancelled: newCancels, stopped: stopped)
            for job in pending where cancelled.contains(job.id) { batch.cancelled.insert(job.id) }
            pending.removeAll(keepingCapacity: true)
            newCancels.removeAll(keepingCapacity: true)
            return batch
        }
    }

    var liveCount: Int { lock.withLock { live.count } }
}
