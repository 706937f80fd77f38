import CCurl
import CurlShim
import Foundation

/// One libcurl easy handle with the buffers it writes into. Pooled and reused with
/// `curl_easy_reset`; only ever touched by the engine's thread.
final class EasyHandle {
    let raw: UnsafeMutableRawPointer
    private let body: UnsafeMutablePointer<fo_body>
    private let headerBuffer: UnsafeMutablePointer<fo_body>
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var collectHeaders = false
    private var collectCertInfo = false

    var bodyPointer: UnsafeMutablePointer<fo_body> { body }
    var headerPointer: UnsafeMutablePointer<fo_body> { headerBuffer }
    var errorMessagePointer: UnsafePointer<CChar> { UnsafePointer(errorBuffer) }
    var collectsHeaders: Bool { collectHeaders }
    var collectsCertInfo: Bool { collectCertInfo }

    /// Largest body buffer kept across requests; bigger ones are freed on reset.
    private static let keptBodyCapacity = 16 * 1_024
    private static let headerLimit = 16 * 1_024

    init?() {
        guard let raw = curl_easy_init() else { return nil }
        self.raw = raw
        body = .allocate(capacity: 1)
        body.initialize(to: fo_body(data: nil, length: 0, capacity: 0, limit: 0, total: 0))
        headerBuffer = .allocate(capacity: 1)
        headerBuffer.initialize(to: fo_body(data: nil, length: 0, capacity: 0, limit: 0, total: 0))
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(raw)
        free(body.pointee.data)
        free(headerBuffer.pointee.data)
        body.deallocate()
        headerBuffer.deallocate()
        errorBuffer.deallocate()
        curl_slist_free_all(headerList)
    }

    /// Applies `request`; returns a non-zero CURLcode when an option was refused.
    func configure(_ request: HTTPRequest) -> Int32 {
        body.pointee.limit = max(request.bodyLimit, 0)
        headerBuffer.pointee.limit = request.collectHeaders ? Self.headerLimit : 0
        collectHeaders = request.collectHeaders
        collectCertInfo = request.collectCertInfo && request.url.lowercased().hasPrefix("https:")
        errorBuffer[0] = 0
        var rc = setBaseOptions(request)
        if rc == 0 { rc = setMethodAndBody(request) }
        if rc == 0 { rc = setHeaders(request) }
        return rc
    }

    private func setBaseOptions(_ request: HTTPRequest) -> Int32 {
        let timeout = max(request.timeout.wholeMilliseconds, 1)
        let connectTimeout = max(request.connectTimeout?.wholeMilliseconds ?? timeout, 1)
        let longs: [(CURLoption, Int)] = [
            (CURLOPT_NOSIGNAL, 1), (CURLOPT_TIMEOUT_MS, timeout), (CURLOPT_CONNECTTIMEOUT_MS, connectTimeout),
            (CURLOPT_BUFFERSIZE, request.receiveBufferSize), (CURLOPT_SSL_VERIFYPEER, request.verifyTLS ? 1 : 0),
            (CURLOPT_SSL_VERIFYHOST, request.verifyTLS ? 2 : 0), (CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0),
            (CURLOPT_MAXREDIRS, 5), (CURLOPT_CERTINFO, collectCertInfo ? 1 : 0),
            (CURLOPT_CONNECT_ONLY, request.connectOnly ? 1 : 0), (CURLOPT_FRESH_CONNECT, request.freshConnection ? 1 : 0),
            (CURLOPT_FORBID_REUSE, request.freshConnection ? 1 : 0),
            // A fresh connection gets a full handshake: the certificate is verified (and read) every time.
            (CURLOPT_SSL_SESSIONID_CACHE, request.freshConnection ? 0 : 1),
            // A transfer ended while its name is still being resolved must not wait for
            // the resolver thread: that would stall the engine's one thread for every request.
            (CURLOPT_QUICK_EXIT, 1),
        ]
        for (option, value) in longs {
            let rc = fo_setopt_long(raw, Int32(option.rawValue), value)
            if rc != 0 { return rc }
        }
        let strings: [(CURLoption, String)] = [
            (CURLOPT_URL, request.url), (CURLOPT_PROTOCOLS_STR, "http,https"),
            (CURLOPT_REDIR_PROTOCOLS_STR, "http,https"), (CURLOPT_USERAGENT, "failoverctl"),
        ] + (request.caFile.map { [(CURLOPT_CAINFO, $0)] } ?? [])
            + (request.clientCertificate.map { [(CURLOPT_SSLCERT, $0.certFile), (CURLOPT_SSLKEY, $0.keyFile)] } ?? [])
            // An empty proxy disables the environment's proxy variables too.
            + (request.useEnvironmentProxy ? [] : [(CURLOPT_PROXY, "")])
        for (option, value) in strings {
            let rc = fo_setopt_string(raw, Int32(option.rawValue), value)
            if rc != 0 { return rc }
        }
        var rc = fo_setopt_pointer(raw, Int32(CURLOPT_ERRORBUFFER.rawValue), errorBuffer)
        if rc == 0 { rc = fo_set_body_sink(raw, body) }
        if rc == 0, request.collectHeaders { rc = fo_set_header_sink(raw, headerBuffer) }
        return rc
    }

    private func setMethodAndBody(_ request: HTTPRequest) -> Int32 {
        switch request.method {
        case .get: return fo_setopt_long(raw, Int32(CURLOPT_HTTPGET.rawValue), 1)
        case .head: return fo_setopt_long(raw, Int32(CURLOPT_NOBODY.rawValue), 1)
        default: break
        }
        var rc: Int32
        if let body = request.body, !body.isEmpty {
            rc = fo_setopt_long(raw, Int32(CURLOPT_POSTFIELDSIZE.rawValue), body.count)
            guard rc == 0 else { return rc }
            // COPYPOSTFIELDS copies, so the Data need not outlive this call.
            rc = body.withUnsafeBytes { bytes in
                fo_setopt_pointer(raw, Int32(CURLOPT_COPYPOSTFIELDS.rawValue), UnsafeMutableRawPointer(mutating: bytes.baseAddress!))
            }
        } else if request.method != .delete {
            rc = fo_setopt_long(raw, Int32(CURLOPT_POSTFIELDSIZE.rawValue), 0)
            guard rc == 0 else { return rc }
            rc = fo_setopt_string(raw, Int32(CURLOPT_COPYPOSTFIELDS.rawValue), "")
        } else {
            rc = 0
        }
        guard rc == 0 else { return rc }
        if request.method == .post { return 0 }
        return fo_setopt_string(raw, Int32(CURLOPT_CUSTOMREQUEST.rawValue), request.method.rawValue)
    }

    private func setHeaders(_ request: HTTPRequest) -> Int32 {
        guard !request.headers.isEmpty || request.body != nil else { return 0 }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        // No "Expect: 100-continue" round trip before a body.
        if request.body != nil { list = curl_slist_append(list, "Expect:") }
        headerList = list
        return fo_setopt_pointer(raw, Int32(CURLOPT_HTTPHEADER.rawValue), list)
    }

    /// Clears everything a request set, keeping the handle (and its buffers) for reuse.
    func reset() {
        curl_easy_reset(raw)
        curl_slist_free_all(headerList)
        headerList = nil
        for buffer in [body, headerBuffer] {
            if buffer.pointee.capacity > Self.keptBodyCapacity {
                free(buffer.pointee.data)
                buffer.pointee.data = nil
                buffer.pointee.capacity = 0
            }
            buffer.pointee.length = 0
            buffer.pointee.total = 0
        }
    }
}

extension Duration {
    /// Whole milliseconds, as libcurl's `_MS` options take them.
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1_000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
