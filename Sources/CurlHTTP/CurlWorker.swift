import CCurl
import CurlShim
import Foundation

/// The engine's loop, run on its one thread: starts queued transfers on the multi
/// handle, drives them with `curl_multi_perform`, hands finished ones back, and sleeps
/// in `curl_multi_poll` (woken by new work or by libcurl's own timers).
final class CurlWorker: @unchecked Sendable {
    private struct Transfer {
        let job: CurlJob
        let handle: EasyHandle
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox: CurlInbox
    private let maxIdleHandles: Int
    private var idle: [EasyHandle] = []
    private var running: [UnsafeMutableRawPointer: Transfer] = [:]
    private var handleByID: [UInt64: UnsafeMutableRawPointer] = [:]

    init(multi: UnsafeMutableRawPointer, inbox: CurlInbox, maxIdleHandles: Int) {
        self.multi = multi
        self.inbox = inbox
        self.maxIdleHandles = maxIdleHandles
    }

    func run() {
        while true {
            let batch = inbox.take()
            for job in batch.jobs {
                if batch.cancelled.contains(job.id) {
                    job.continuation.resume(returning: HTTPResponse(error: .cancelled))
                } else {
                    start(job)
                }
            }
            for id in batch.cancelled {
                if let raw = handleByID[id] { finish(raw, with: HTTPResponse(error: .cancelled)) }
            }
            if batch.stopped {
                for raw in Array(running.keys) { finish(raw, with: HTTPResponse(error: .cancelled)) }
                curl_multi_cleanup(multi)
                return
            }
            var active: Int32 = 0
            curl_multi_perform(multi, &active)
            for transfer in running.values {
                if let sink = transfer.job.request.onData { transfer.handle.drainBody(into: sink) }
            }
            collectFinished()
            var ready: Int32 = 0
            // libcurl shortens the wait to its next internal timeout on its own.
            curl_multi_poll(multi, nil, 0, 1_000, &ready)
        }
    }

    private func start(_ job: CurlJob) {
        guard let handle = idle.popLast() ?? EasyHandle() else {
            let error = CurlHTTPError.curl(27, message: "out of memory creating a curl handle")
            job.continuation.resume(returning: HTTPResponse(error: error))
            return
        }
        let rc = handle.configure(job.request)
        guard rc == 0 else {
            let message = String(cString: curl_easy_strerror(CURLcode(UInt32(rc))))
            job.continuation.resume(returning: HTTPResponse(error: .curl(rc, message: message)))
            recycle(handle, connectOnly: job.request.connectOnly)
            return
        }
        let added = curl_multi_add_handle(multi, handle.raw)
        guard added == CURLM_OK else {
            let message = String(cString: curl_multi_strerror(added))
            job.continuation.resume(returning: HTTPResponse(error: .curl(Int32(added.rawValue), message: message)))
            recycle(handle, connectOnly: job.request.connectOnly)
            return
        }
        running[handle.raw] = Transfer(job: job, handle: handle)
        handleByID[job.id] = handle.raw
    }

    private func collectFinished() {
        var easy: UnsafeMutableRawPointer?
        var result: Int32 = 0
        while fo_multi_next_done(multi, &easy, &result) == 1 {
            guard let raw = easy, let transfer = running[raw] else { continue }
            if let sink = transfer.job.request.onData { transfer.handle.drainBody(into: sink) }
            finish(raw, with: transfer.handle.response(result: result))
        }
    }

    private func finish(_ raw: UnsafeMutableRawPointer, with response: HTTPResponse) {
        guard let transfer = running.removeValue(forKey: raw) else { return }
        handleByID.removeValue(forKey: transfer.job.id)
        curl_multi_remove_handle(multi, raw)
        transfer.job.continuation.resume(returning: response)
        recycle(transfer.handle, connectOnly: transfer.job.request.connectOnly)
    }

    /// Returns a handle to the pool. A connect-only handle keeps its connection open
    /// until cleanup, so it is dropped instead: the probed server sees it close now.
    private func recycle(_ handle: EasyHandle, connectOnly: Bool) {
        guard !connectOnly, idle.count < maxIdleHandles else { return }
        handle.reset()
        idle.append(handle)
    }
}
