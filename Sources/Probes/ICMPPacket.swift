import Foundation

/// ICMP echo packets for IPv4 (RFC 792) and IPv6 (RFC 4443): building requests and
/// reading replies and errors, for raw and datagram sockets.
enum ICMPPacket {
    enum Family: Sendable {
        case v4, v6

        var echoRequest: UInt8 { self == .v4 ? 8 : 128 }
        var echoReply: UInt8 { self == .v4 ? 0 : 129 }
        /// Destination unreachable, and (v4) time exceeded.
        var errorTypes: Set<UInt8> { self == .v4 ? [3, 11] : [1, 3] }
    }

    /// What arrived on the socket, as far as our probes care.
    enum Message: Equatable {
        case reply(identifier: UInt16, sequence: UInt16)
        /// An error about one of our requests, e.g. destination unreachable.
        case error(identifier: UInt16, sequence: UInt16, type: UInt8, code: UInt8)
    }

    /// An echo request with an 8-byte payload. The checksum is filled in for IPv4; the
    /// kernel computes the ICMPv6 one.
    static func echoRequest(family: Family, identifier: UInt16, sequence: UInt16) -> [UInt8] {
        var packet: [UInt8] = [family.echoRequest, 0, 0, 0]
        packet += [UInt8(identifier >> 8), UInt8(identifier & 0xff), UInt8(sequence >> 8), UInt8(sequence & 0xff)]
        packet += Array("failover".utf8)
        if family == .v4 {
            let sum = checksum(packet)
            packet[2] = UInt8(sum >> 8)
            packet[3] = UInt8(sum & 0xff)
        }
        return packet
    }

    /// The internet checksum (RFC 1071).
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// Parses a received packet. `withIPHeader` is true for raw IPv4 sockets, whose
    /// reads start with the IP header.
    static func parse(_ bytes: [UInt8], family: Family, withIPHeader: Bool) -> Message? {
        var start = 0
        if withIPHeader {
            guard let first = bytes.first else { return nil }
            start = Int(first & 0x0f) * 4
        }
        guard bytes.count >= start + 8 else { return nil }
        let type = bytes[start]
        if type == family.echoReply {
            return .reply(identifier: word(bytes, start + 4), sequence: word(bytes, start + 6))
        }
        guard family.errorTypes.contains(type) else { return nil }
        // The error quotes the offending packet: its IP header, then our echo request.
        let quoted = start + 8
        let innerStart: Int
        if family == .v4 {
            guard bytes.count > quoted else { return nil }
            innerStart = quoted + Int(bytes[quoted] & 0x0f) * 4
        } else {
            innerStart = quoted + 40
        }
        guard bytes.count >= innerStart + 8, bytes[innerStart] == family.echoRequest else { return nil }
        return .error(
            identifier: word(bytes, innerStart + 4), sequence: word(bytes, innerStart + 6), type: type,
            code: bytes[start + 1])
    }

    private static func word(_ bytes: [UInt8], _ at: Int) -> UInt16 {
        UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
    }
}
