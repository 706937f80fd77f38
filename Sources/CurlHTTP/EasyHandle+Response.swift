import CCurl
import CurlShim
import Foundation

extension EasyHandle {
    /// Reads what the finished transfer produced; `result` is its CURLcode.
    /// Hands what the body buffer holds to `sink` and empties it (a streamed response).
    func drainBody(into sink: @Sendable (Data) -> Void) {
        let buffer = bodyPointer.pointee
        guard buffer.length > 0, let data = buffer.data else { return }
        sink(Data(bytes: data, count: buffer.length))
        bodyPointer.pointee.length = 0
        bodyPointer.pointee.total = 0
    }

    func response(result: Int32) -> HTTPResponse {
        var response = HTTPResponse(timings: timings())
        response.status = Int(longInfo(CURLINFO_RESPONSE_CODE))
        let bodyBuffer = bodyPointer.pointee
        if bodyBuffer.length > 0, let data = bodyBuffer.data {
            response.body = Data(bytes: data, count: bodyBuffer.length)
        }
        response.bodyTruncated = bodyBuffer.total > bodyBuffer.length
        if collectsHeaders { response.headers = parsedHeaders() }
        if collectsCertInfo { response.certificateExpiry = leafExpiry() }
        if result != 0 { response.error = error(result: result) }
        return response
    }

    private func error(result: Int32) -> CurlHTTPError {
        var message = String(cString: errorMessagePointer)
        if message.isEmpty { message = String(cString: curl_easy_strerror(CURLcode(UInt32(result)))) }
        return .curl(result, message: message, osErrno: Int32(longInfo(CURLINFO_OS_ERRNO)))
    }

    private func longInfo(_ info: CURLINFO) -> Int {
        var value = 0
        _ = fo_getinfo_long(raw, Int32(info.rawValue), &value)
        return value
    }

    private func microseconds(_ info: CURLINFO) -> Duration {
        var value: Int64 = 0
        _ = fo_getinfo_off(raw, Int32(info.rawValue), &value)
        return .microseconds(value)
    }

    private func timings() -> HTTPTimings {
        HTTPTimings(
            nameLookup: microseconds(CURLINFO_NAMELOOKUP_TIME_T), connect: microseconds(CURLINFO_CONNECT_TIME_T),
            appConnect: microseconds(CURLINFO_APPCONNECT_TIME_T),
            startTransfer: microseconds(CURLINFO_STARTTRANSFER_TIME_T), total: microseconds(CURLINFO_TOTAL_TIME_T))
    }

    /// The `Expire date` of certificate 0 (the server's own) in the collected chain.
    private func leafExpiry() -> Date? {
        guard fo_certinfo_count(raw) > 0 else { return nil }
        var text = [CChar](repeating: 0, count: 64)
        guard fo_certinfo_field(raw, 0, "Expire date", &text, text.count) == 1 else { return nil }
        return CertificateDate.parse(String(cString: text))
    }

    /// Header lines of the last response (earlier blocks belong to redirects or 100s).
    private func parsedHeaders() -> [(name: String, value: String)] {
        let buffer = headerPointer.pointee
        guard buffer.length > 0, let data = buffer.data else { return [] }
        let text = String(decoding: UnsafeRawBufferPointer(start: data, count: buffer.length), as: UTF8.self)
        var headers: [(name: String, value: String)] = []
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("HTTP/") {
                headers.removeAll(keepingCapacity: true)
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                headers.append((name: name, value: value))
            }
        }
        return headers
    }
}
