import CCryptoShim
import Foundation

/// SHA-256 through OpenSSL's libcrypto.
public enum SHA256 {
    /// The 32-byte SHA-256 digest of `data`.
    public static func hash(_ data: Data) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = data.withUnsafeBytes { ccrypto_sha256($0.baseAddress, $0.count, &out) }
        precondition(ok == 1, "libcrypto SHA-256 failed")
        return out
    }

    /// The lowercase hex SHA-256 of `data`, as SigV4 writes payload and request hashes.
    public static func hex(_ data: Data) -> String { SigV4.hex(hash(data)) }
}

/// The 32-byte HMAC-SHA256 of `data` under `key`, through OpenSSL's libcrypto.
public func HMACSHA256(key: [UInt8], data: Data) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    let ok = key.withUnsafeBytes { k in
        data.withUnsafeBytes { d in ccrypto_hmac_sha256(k.baseAddress, k.count, d.baseAddress, d.count, &out) }
    }
    precondition(ok == 1, "libcrypto HMAC-SHA256 failed")
    return out
}

/// One HTTP request to sign: what SigV4 reads of it.
public struct SigV4Request: Sendable {
    /// `GET`, `POST`...
    public var method: String
    /// The `Host` header as sent (`route53.amazonaws.com`, `127.0.0.1:5000`).
    public var host: String
    /// The path as sent on the wire (`/2013-04-01/hostedzone/Z1/rrset`); `/` when empty.
    public var path: String
    /// Query parameters, not encoded; `SigV4.canonicalQuery` gives the string to send.
    public var query: [(name: String, value: String)]
    /// Headers to sign besides `host` and `x-amz-date` (which `sign` adds); a name may repeat.
    public var headers: [(name: String, value: String)]
    /// The body (empty for none).
    public var body: Data

    /// Creates a request.
    public init(
        method: String, host: String, path: String = "/", query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], body: Data = Data()
    ) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// A signed request's parts: what to send and the intermediate texts (for tests).
public struct SigV4Signature: Sendable {
    /// The canonical request (task 1).
    public var canonicalRequest: String
    /// The string to sign (task 2).
    public var stringToSign: String
    /// The hex signature (task 3).
    public var signature: String
    /// The `Authorization` header's value.
    public var authorization: String
    /// Headers to add to the request: `X-Amz-Date`, `X-Amz-Security-Token` (temporary
    /// credentials only) and `Authorization`. `Host` is sent by the HTTP client.
    public var headers: [(name: String, value: String)]
}

/// AWS Signature Version 4 as pure functions: the time comes in as an argument, nothing is
/// read from the environment, and the secret key appears only inside the HMAC chain
/// (never in any returned text).
public enum SigV4 {
    /// Signs `request` for `service` in `region` at `date` with `credentials`.
    public static func sign(
        _ request: SigV4Request, credentials: AWSCredentials, region: String, service: String, date: Date
    ) -> SigV4Signature {
        let (amzDate, day) = timestamps(date)
        var headers = request.headers + [(name: "host", value: request.host), (name: "x-amz-date", value: amzDate)]
        if let token = credentials.sessionToken { headers.append((name: "x-amz-security-token", value: token)) }
        let (canonical, signedHeaders) = canonicalRequest(
            method: request.method, path: request.path, query: request.query, headers: headers,
            payloadHash: SHA256.hex(request.body))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", amzDate, scope, SHA256.hex(Data(canonical.utf8))].joined(separator: "\n")
        let key = signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = hex(HMACSHA256(key: key, data: Data(toSign.utf8)))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        var out = [(name: "X-Amz-Date", value: amzDate)]
        if let token = credentials.sessionToken { out.append((name: "X-Amz-Security-Token", value: token)) }
        out.append((name: "Authorization", value: authorization))
        return SigV4Signature(
            canonicalRequest: canonical, stringToSign: toSign, signature: signature, authorization: authorization,
            headers: out)
    }

    /// The canonical request and its signed-headers list: method, URI-encoded path, sorted
    /// query, headers lowercased, trimmed (inner runs of spaces collapsed), sorted and
    /// merged (`a:v1,v2`), and the payload's hex SHA-256.
    public static func canonicalRequest(
        method: String, path: String, query: [(name: String, value: String)],
        headers: [(name: String, value: String)], payloadHash: String
    ) -> (canonical: String, signedHeaders: String) {
        var merged: [String: [String]] = [:]
        for header in headers { merged[header.name.lowercased(), default: []].append(trimmed(header.value)) }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let lines = [
            method.uppercased(), canonicalPath(path), canonicalQuery(query), canonicalHeaders, signedHeaders,
            payloadHash,
        ]
        return (lines.joined(separator: "\n"), signedHeaders)
    }

    /// The query as SigV4 signs it and as it must be sent: names and values encoded
    /// (`encode`), sorted by name then value, joined with `&`.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (encode($0.name), encode($0.value)) }
        let sorted = encoded.sorted { (a, b) -> Bool in a.name == b.name ? a.value < b.value : a.name < b.name }
        let pairs: [String] = sorted.map { "\($0.name)=\($0.value)" }
        return pairs.joined(separator: "&")
    }

    /// `text` percent-encoded except RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`),
    /// UTF-8, upper-case hex: SigV4's `UriEncode`.
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// The signing key: HMAC chain of `"AWS4" + secret`, the day, region, service and
    /// `aws4_request`.
    public static func signingKey(secret: String, day: String, region: String, service: String) -> [UInt8] {
        var key = Array("AWS4\(secret)".utf8)
        for part in [day, region, service, "aws4_request"] { key = HMACSHA256(key: key, data: Data(part.utf8)) }
        return key
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` and `YYYYMMDD` of `date` in UTC.
    public static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let day = String(format: "%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        let time = String(format: "%02d%02d%02d", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return ("\(day)T\(time)Z", day)
    }

    /// Lowercase hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The path with each segment encoded once more (`%` becomes `%25`), as every service
    /// but S3 signs it.
    static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }
            .joined(separator: "/")
    }

    /// A header value trimmed, with inner runs of spaces collapsed to one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }
}
