import CCurl
import Foundation

/// The one outbound HTTP engine: a single libcurl multi handle driven by a single
/// dedicated thread, shared by every caller (probes, cloud APIs, webhooks, the CLI).
///
/// Requests from any task are queued and the thread is woken with
/// `curl_multi_wakeup`; no thread is created per request. Easy handles are pooled and
/// reused. Cancelling the calling task removes its transfer at once.
public final class CurlEngine: Sendable {
    private let inbox: CurlInbox

    /// The process-wide engine.
    public static let shared = CurlEngine()

    /// Starts an engine with its own thread; `maxIdleHandles` easy handles are kept for reuse.
    public init(maxIdleHandles: Int = 256) {
        CurlGlobal.initialize()
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        inbox = CurlInbox(multi: multi)
        let worker = CurlWorker(multi: multi, inbox: inbox, maxIdleHandles: maxIdleHandles)
        let thread = Thread { worker.run() }
        thread.name = "failoverctl-curl"
        thread.start()
    }

    deinit {
        inbox.stop()
    }

    /// Performs `request`, returning when it completes, fails, times out or the calling
    /// task is cancelled. Never throws: failures are `HTTPResponse.error`.
    public func perform(_ request: HTTPRequest) async -> HTTPResponse {
        let id = inbox.nextID()
        let response = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                inbox.submit(CurlJob(id: id, request: request, continuation: continuation))
            }
        } onCancel: {
            inbox.cancel(id)
        }
        inbox.forget(id)
        return response
    }

    /// Transfers currently queued or running, for metrics and tests.
    public var inFlight: Int { inbox.liveCount }
}

/// `curl_global_init`, exactly once per process.
enum CurlGlobal {
    private static let done: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    static func initialize() {
        precondition(done, "curl_global_init failed")
    }
}

/// A request waiting for the engine's thread.
struct CurlJob: Sendable {
    let id: UInt64
    let request: HTTPRequest
    let continuation: CheckedContinuation<HTTPResponse, Never>
}
