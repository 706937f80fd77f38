import Foundation

/// One ICMP socket of one address family, shared by every ping probe of the process,
/// with one reader thread that matches replies to waiting probes by sequence number
/// and expires them at their deadline. Raw when permitted (root or CAP_NET_RAW), else
/// the kernel's unprivileged datagram "ping socket".
final class ICMPSocket: @unchecked Sendable {
    /// How one echo ended.
    enum Answer: Equatable {
        case reply(rtt: Duration)
        case icmpError(type: UInt8, code: UInt8)
        case timeout
        case cancelled
        case sendFailed(errno: Int32)
    }

    private struct Waiter {
        let continuation: CheckedContinuation<Answer, Never>
        let sent: ContinuousClock.Instant
        let deadline: ContinuousClock.Instant
        let address: [UInt8]
    }

    let family: ICMPPacket.Family
    /// Whether this is a raw socket (replies carry our identifier and, for v4, the IP header).
    let isRaw: Bool
    private let fd: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let identifier = UInt16.random(in: 1...UInt16.max)
    private let lock = NSLock()
    private var waiters: [UInt16: Waiter] = [:]
    private var lastSequence = UInt16.random(in: 0...UInt16.max)

    private init(family: ICMPPacket.Family, fd: Int32, isRaw: Bool) {
        self.family = family
        self.fd = fd
        self.isRaw = isRaw
        var pipeEnds: [Int32] = [0, 0]
        precondition(pipe(&pipeEnds) == 0, "pipe() failed: errno \(errno)")
        wakeRead = pipeEnds[0]
        wakeWrite = pipeEnds[1]
        for descriptor in [fd, wakeRead, wakeWrite] {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        let thread = Thread { [self] in readLoop() }
        thread.name = "failoverctl-icmp\(family == .v4 ? "4" : "6")"
        thread.start()
    }

    /// Opens a socket for `family`: raw first, then datagram. On failure, a sentence
    /// saying what is missing.
    static func open(_ family: ICMPPacket.Family) -> Result<ICMPSocket, PingUnavailable> {
        let domain = family == .v4 ? AF_INET : AF_INET6
        let proto = family == .v4 ? Int32(IPPROTO_ICMP) : Int32(IPPROTO_ICMPV6)
        let raw = socket(domain, Int32(SOCK_RAW.rawValue), proto)
        if raw >= 0 { return .success(ICMPSocket(family: family, fd: raw, isRaw: true)) }
        let rawErrno = errno
        let datagram = socket(domain, Int32(SOCK_DGRAM.rawValue), proto)
        if datagram >= 0 { return .success(ICMPSocket(family: family, fd: datagram, isRaw: false)) }
        return .failure(PingUnavailable(family: family, rawErrno: rawErrno, datagramErrno: errno))
    }

    /// Sends one echo request to `address` and waits for its reply, an ICMP error about
    /// it, the timeout or cancellation, whichever comes first.
    func ping(_ address: HostResolver.Address, timeout: Duration) async -> Answer {
        let sequence = register()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = ContinuousClock.now
                let waiter = Waiter(
                    continuation: continuation, sent: now, deadline: now + timeout, address: address.bytes)
                lock.withLock { waiters[sequence] = waiter }
                wake()
                let sendErrno = send(sequence: sequence, to: address)
                if sendErrno != 0 { finish(sequence, with: .sendFailed(errno: sendErrno)) }
                // A cancellation that came before the waiter was registered found nothing to end.
                if Task.isCancelled { finish(sequence, with: .cancelled) }
            }
        } onCancel: {
            finish(sequence, with: .cancelled)
        }
    }

    private func register() -> UInt16 {
        lock.withLock {
            repeat { lastSequence &+= 1 } while waiters[lastSequence] != nil
            return lastSequence
        }
    }

    private func send(sequence: UInt16, to address: HostResolver.Address) -> Int32 {
        let packet = ICMPPacket.echoRequest(family: family, identifier: identifier, sequence: sequence)
        var storage = address.storage
        let sent = packet.withUnsafeBytes { bytes in
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, address.length)
                }
            }
        }
        return sent < 0 ? errno : 0
    }

    private func finish(_ sequence: UInt16, with answer: Answer) {
        guard let waiter = lock.withLock({ waiters.removeValue(forKey: sequence) }) else { return }
        waiter.continuation.resume(returning: answer)
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }
}

extension ICMPSocket {
    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 2_048)
        while true {
            let wait = expireOverdue()
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, wait)
            if fds[1].revents != 0 { drainWakeups(&buffer) }
            if fds[0].revents != 0 { readReplies(&buffer) }
        }
    }

    /// Times out overdue waiters; returns poll's wait in ms until the next deadline (-1: none).
    private func expireOverdue() -> Int32 {
        let now = ContinuousClock.now
        let (overdue, next) = lock.withLock { () -> ([Waiter], ContinuousClock.Instant?) in
            let late = waiters.filter { $0.value.deadline <= now }
            for key in late.keys { waiters.removeValue(forKey: key) }
            return (Array(late.values), waiters.values.map(\.deadline).min())
        }
        for waiter in overdue { waiter.continuation.resume(returning: .timeout) }
        guard let next else { return -1 }
        let milliseconds = (now.duration(to: next).fractionalMilliseconds).rounded(.up)
        return Int32(max(1, min(milliseconds, 60_000)))
    }

    private func drainWakeups(_ buffer: inout [UInt8]) {
        while buffer.withUnsafeMutableBytes({ read(wakeRead, $0.baseAddress, $0.count) }) > 0 {}
    }

    private func readReplies(_ buffer: inout [UInt8]) {
        while true {
            var source = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &source) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length)
                    }
                }
            }
            guard count > 0 else { return }
            let received = ContinuousClock.now
            let packet = Array(buffer[0..<count])
            guard let message = ICMPPacket.parse(packet, family: family, withIPHeader: isRaw && family == .v4) else {
                continue
            }
            let from = HostResolver.Address(family: family, storage: source, length: length).bytes
            deliver(message, from: from, at: received)
        }
    }

    private func deliver(_ message: ICMPPacket.Message, from: [UInt8], at received: ContinuousClock.Instant) {
        switch message {
        case .reply(let id, let sequence):
            // A datagram socket's identifier is the kernel's; it already filters for us.
            guard !isRaw || id == identifier else { return }
            let matched = lock.withLock { () -> Waiter? in
                guard let waiter = waiters[sequence], waiter.address == from else { return nil }
                return waiters.removeValue(forKey: sequence)
            }
            if let waiter = matched {
                waiter.continuation.resume(returning: .reply(rtt: waiter.sent.duration(to: received)))
            }
        case .error(let id, let sequence, let type, let code):
            guard isRaw, id == identifier else { return }
            finish(sequence, with: .icmpError(type: type, code: code))
        }
    }
}

/// Neither a raw nor a datagram ICMP socket could be opened.
struct PingUnavailable: Error, CustomStringConvertible {
    let family: ICMPPacket.Family
    let rawErrno: Int32
    let datagramErrno: Int32

    var description: String {
        let raw = String(cString: strerror(rawErrno))
        let datagram = String(cString: strerror(datagramErrno))
        let range = family == .v4 ? "net.ipv4.ping_group_range" : "net.ipv4.ping_group_range (used for IPv6 too)"
        return "ping is not permitted: a raw ICMP socket needs root or CAP_NET_RAW (\(raw)), "
            + "an unprivileged one needs this process's group in \(range) (\(datagram))"
    }
}
