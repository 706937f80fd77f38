import Foundation

/// One outbound HTTP request (or, with `connectOnly`, one TCP connect) for `CurlEngine`.
///
/// Defaults suit a health probe: TLS verified, redirects not followed, a fresh
/// connection, a 64 KiB body cap.
public struct HTTPRequest: Sendable {
    /// The HTTP method.
    public enum Method: String, Sendable {
        case get = "GET", head = "HEAD", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"
    }

    /// Full URL including scheme (`http`, `https`). Credentials in it are sent as basic auth.
    public var url: String
    /// The method.
    public var method: Method
    /// Request headers in order; a header may repeat.
    public var headers: [(name: String, value: String)]
    /// The request body, if any.
    public var body: Data?
    /// Upper bound for the whole transfer (resolve, connect, TLS, request, response).
    public var timeout: Duration
    /// Upper bound for resolve + connect + TLS; `timeout` when nil.
    public var connectTimeout: Duration?
    /// A PEM CA bundle to verify the server against instead of the system store.
    public var caFile: String?
    /// Verify the server certificate and host name (never turn off outside tests).
    public var verifyTLS: Bool
    /// Follow `Location` redirects (at most 5).
    public var followRedirects: Bool
    /// At most this many body bytes are kept; the rest is counted and dropped.
    public var bodyLimit: Int
    /// Collect the server certificate's expiry date (`HTTPResponse.certificateExpiry`).
    public var collectCertInfo: Bool
    /// Only resolve and connect (TCP, plus TLS for `https`), send nothing.
    public var connectOnly: Bool
    /// Open a new connection and close it afterwards, so timings cover every phase.
    public var freshConnection: Bool
    /// Keep the response headers (`HTTPResponse.headers`).
    public var collectHeaders: Bool
    /// libcurl's receive buffer size; small values save memory across many probes.
    public var receiveBufferSize: Int
    /// Go through the proxy named by `http_proxy`/`https_proxy`/`ALL_PROXY` (honouring
    /// `NO_PROXY`). Off by default: a probe must reach the site itself, not a proxy.
    public var useEnvironmentProxy: Bool = false
    /// A client certificate and its key (PEM files) for servers that authenticate clients by TLS.
    public var clientCertificate: (certFile: String, keyFile: String)?
    /// A streamed response (an etcd watch): the body is handed here as it arrives, in
    /// order, on the engine's thread (keep it short), instead of being kept for the
    /// response; `bodyLimit` then bounds what is buffered between two hand-overs.
    public var onData: (@Sendable (Data) -> Void)?

    /// Creates a request; see the properties for the defaults' meaning.
    public init(
        url: String, method: Method = .get, headers: [(name: String, value: String)] = [], body: Data? = nil,
        timeout: Duration = .seconds(10), connectTimeout: Duration? = nil, caFile: String? = nil,
        verifyTLS: Bool = true, followRedirects: Bool = false, bodyLimit: Int = 64 * 1_024,
        collectCertInfo: Bool = false, connectOnly: Bool = false, freshConnection: Bool = true,
        collectHeaders: Bool = false, receiveBufferSize: Int = 16 * 1_024
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.caFile = caFile
        self.verifyTLS = verifyTLS
        self.followRedirects = followRedirects
        self.bodyLimit = bodyLimit
        self.collectCertInfo = collectCertInfo
        self.connectOnly = connectOnly
        self.freshConnection = freshConnection
        self.collectHeaders = collectHeaders
        self.receiveBufferSize = receiveBufferSize
    }
}
