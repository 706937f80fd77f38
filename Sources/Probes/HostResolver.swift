import Foundation

/// Resolves a ping target to one socket address. IP literals are parsed at once;
/// names go through `getaddrinfo` on a dispatch thread, so no task thread blocks.
enum HostResolver {
    struct Address: @unchecked Sendable {
        let family: ICMPPacket.Family
        let storage: sockaddr_storage
        let length: socklen_t

        /// The address bytes (4 or 16), to match replies against.
        var bytes: [UInt8] {
            var copy = storage
            return withUnsafeBytes(of: &copy) { raw in
                family == .v4 ? Array(raw[4..<8]) : Array(raw[8..<24])
            }
        }
    }

    enum Failure: Error {
        case notFound
        case timedOut
    }

    /// Resolves `host`, giving up after `timeout` (a hung resolver cannot hold a probe
    /// past its bound; the lookup itself finishes in the background).
    static func resolve(_ host: String, timeout: Duration) async -> Result<Address, Failure> {
        if let literal = lookup(host, flags: AI_NUMERICHOST) { return .success(literal) }
        let once = ResumeOnce()
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let found = lookup(host, flags: 0)
                if once.claim() { continuation.resume(returning: found.map { .success($0) } ?? .failure(.notFound)) }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(max(timeout.milliseconds, 1)))) {
                if once.claim() { continuation.resume(returning: .failure(.timedOut)) }
            }
        }
    }

    private static func lookup(_ host: String, flags: Int32) -> Address? {
        var hints = addrinfo()
        hints.ai_flags = flags
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_RAW.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            let info = current.pointee
            if let address = info.ai_addr, info.ai_family == AF_INET || info.ai_family == AF_INET6 {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { target in
                    target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen)))
                }
                return Address(family: info.ai_family == AF_INET ? .v4 : .v6, storage: storage, length: info.ai_addrlen)
            }
            entry = info.ai_next
        }
        return nil
    }
}

/// Lets exactly one of several racing callbacks resume a continuation.
final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    /// True for the first caller only.
    func claim() -> Bool {
        lock.withLock {
            defer { done = true }
            return !done
        }
    }
}
