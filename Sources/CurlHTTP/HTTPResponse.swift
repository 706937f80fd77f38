import Foundation

/// What one `HTTPRequest` produced. A transfer failure is not thrown: it is `error`,
/// with whatever was measured before it.
public struct HTTPResponse: Sendable {
    /// The last HTTP status received, or 0 when none was (failure, `connectOnly`).
    public var status: Int
    /// Response headers of the last response, in order, when `collectHeaders` was set.
    public var headers: [(name: String, value: String)]
    /// The body, cut at the request's `bodyLimit`.
    public var body: Data
    /// Whether the body was longer than `bodyLimit`.
    public var bodyTruncated: Bool
    /// Why the transfer failed, or nil when it completed (whatever the status).
    public var error: CurlHTTPError?
    /// Per-phase timings, cumulative from the start of the transfer.
    public var timings: HTTPTimings
    /// The leaf certificate's `notAfter`, when `collectCertInfo` was set and a TLS
    /// handshake happened.
    public var certificateExpiry: Date?

    /// Creates a response.
    public init(
        status: Int = 0, headers: [(name: String, value: String)] = [], body: Data = Data(), bodyTruncated: Bool = false,
        error: CurlHTTPError? = nil, timings: HTTPTimings = HTTPTimings(), certificateExpiry: Date? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.error = error
        self.timings = timings
        self.certificateExpiry = certificateExpiry
    }

    /// The body as UTF-8 text (invalid bytes replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// Per-phase timings of one transfer, each measured from its start (libcurl's `_T`
/// infos). A phase that did not happen is zero.
public struct HTTPTimings: Sendable, Equatable {
    /// Name resolution done.
    public var nameLookup: Duration
    /// TCP connected.
    public var connect: Duration
    /// TLS handshake done (zero for plain HTTP).
    public var appConnect: Duration
    /// First response byte received.
    public var startTransfer: Duration
    /// Transfer finished (or failed).
    public var total: Duration

    /// Creates timings.
    public init(
        nameLookup: Duration = .zero, connect: Duration = .zero, appConnect: Duration = .zero,
        startTransfer: Duration = .zero, total: Duration = .zero
    ) {
        self.nameLookup = nameLookup
        self.connect = connect
        self.appConnect = appConnect
        self.startTransfer = startTransfer
        self.total = total
    }
}

/// Why a transfer failed: a libcurl result code with its message, or a cancellation.
public struct CurlHTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Equatable {
        case curl(Int32)
        case cancelled
    }

    private let code: Code
    /// libcurl's message (`CURLOPT_ERRORBUFFER`, else `curl_easy_strerror`).
    public let message: String
    /// The OS `errno` of the last failed connect (`CURLINFO_OS_ERRNO`), 0 when unknown.
    public let osErrno: Int32

    /// A libcurl failure with result code `curlCode` (a `CURLcode`).
    public static func curl(_ curlCode: Int32, message: String, osErrno: Int32 = 0) -> CurlHTTPError {
        CurlHTTPError(code: .curl(curlCode), message: message, osErrno: osErrno)
    }

    /// The request's task was cancelled before the transfer finished.
    public static let cancelled = CurlHTTPError(code: .cancelled, message: "request cancelled", osErrno: 0)

    /// The libcurl result code, or nil for a cancellation.
    public var curlCode: Int32? {
        if case .curl(let value) = code { return value }
        return nil
    }

    /// Whether the task was cancelled.
    public var isCancelled: Bool { code == .cancelled }

    /// Whether the transfer timed out (`CURLE_OPERATION_TIMEDOUT`).
    public var isTimeout: Bool { curlCode == 28 }

    /// Whether trying again later may succeed: network and server trouble, not a bad
    /// URL, option or local resource.
    public var isRetryable: Bool {
        guard let curlCode else { return false }
        let fatal: Set<Int32> = [1, 2, 3, 4, 27, 43, 48, 53, 54, 58, 66, 77, 82]
        return !fatal.contains(curlCode)
    }

    public var description: String {
        switch code {
        case .curl(let value): "curl error \(value): \(message)"
        case .cancelled: message
        }
    }
}
