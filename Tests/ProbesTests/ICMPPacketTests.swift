import Testing

@testable import Probes

/// ICMP echo packets as built and parsed for raw and datagram sockets, v4 and v6.
@Suite struct ICMPPacketTests {
    @Test func checksumFollowsRFC1071() {
        // The worked example of RFC 1071 section 3: the one's-complement sum is 0xddf2.
        #expect(ICMPPacket.checksum([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]) == ~UInt16(0xddf2))
        // A packet carrying its checksum sums to zero.
        let request = ICMPPacket.echoRequest(family: .v4, identifier: 0x1234, sequence: 7)
        #expect(ICMPPacket.checksum(request) == 0)
    }

    @Test func echoRequestCarriesTypeIdentifierAndSequence() {
        let v4 = ICMPPacket.echoRequest(family: .v4, identifier: 0xabcd, sequence: 0x0102)
        #expect(Array(v4[0..<2]) == [8, 0])
        #expect(Array(v4[4..<8]) == [0xab, 0xcd, 0x01, 0x02])
        let v6 = ICMPPacket.echoRequest(family: .v6, identifier: 1, sequence: 2)
        #expect(v6[0] == 128)
        #expect(Array(v6[2..<4]) == [0, 0], "the kernel fills in the ICMPv6 checksum")
    }

    @Test func repliesParseWithAndWithoutTheIPHeader() {
        var reply = ICMPPacket.echoRequest(family: .v4, identifier: 0x0102, sequence: 0x0304)
        reply[0] = 0
        let ipHeader: [UInt8] = [0x45] + [UInt8](repeating: 0, count: 19)
        #expect(ICMPPacket.parse(ipHeader + reply, family: .v4, withIPHeader: true) == .reply(identifier: 0x0102, sequence: 0x0304))
        #expect(ICMPPacket.parse(reply, family: .v4, withIPHeader: false) == .reply(identifier: 0x0102, sequence: 0x0304))
        var reply6 = ICMPPacket.echoRequest(family: .v6, identifier: 5, sequence: 6)
        reply6[0] = 129
        #expect(ICMPPacket.parse(reply6, family: .v6, withIPHeader: false) == .reply(identifier: 5, sequence: 6))
    }

    @Test func ourOwnRequestsAndShortPacketsAreIgnored() {
        let request = ICMPPacket.echoRequest(family: .v4, identifier: 1, sequence: 1)
        #expect(ICMPPacket.parse(request, family: .v4, withIPHeader: false) == nil)
        #expect(ICMPPacket.parse([0, 0, 0], family: .v4, withIPHeader: false) == nil)
        #expect(ICMPPacket.parse([0x4f] + [UInt8](repeating: 0, count: 10), family: .v4, withIPHeader: true) == nil)
    }

    @Test func destinationUnreachableNamesTheRequestItQuotes() {
        let request = ICMPPacket.echoRequest(family: .v4, identifier: 0x0a0b, sequence: 0x0c0d)
        let quotedIP: [UInt8] = [0x45] + [UInt8](repeating: 0, count: 19)
        let error: [UInt8] = [3, 1, 0, 0, 0, 0, 0, 0] + quotedIP + Array(request[0..<8])
        let outerIP: [UInt8] = [0x45] + [UInt8](repeating: 0, count: 19)
        #expect(
            ICMPPacket.parse(outerIP + error, family: .v4, withIPHeader: true)
                == .error(identifier: 0x0a0b, sequence: 0x0c0d, type: 3, code: 1))
    }
}
