import Testing

@testable import GameNet

/// The wire format: each packet type round-trips, and every malformed datagram is refused whole.
@Suite struct PacketTests {
    static let header = Packet.DataHeader(token: 99, sequence: 5, ack: 0xFFFF_FFFF, ackBits: 0b1011)
    static let packets: [Packet] = [
        .connectRequest(clientID: 0x1122_3344_5566_7788),
        .challenge(clientID: 1, cookie: .init(expiresNs: 123_456_789, mac: 0xDEAD_BEEF)),
        .challengeResponse(clientID: 1, cookie: .init(expiresNs: -1, mac: 7), initialSequence: 0xFFFF_FFFE),
        .accept(clientID: 1, connectionID: 2, token: 3, initialSequence: 4),
        .reject(clientID: 9, reason: .hostFull),
        .data(header, frames: []),
        .data(
            header,
            frames: [
                .message(channel: 0, sequence: 3, payload: Array("hello".utf8)),
                .message(channel: 2, sequence: 4, payload: []),
                .fragment(channel: 1, sequence: 9, index: 1, count: 3, payload: [1, 2, 3, 4]),
                .disconnect(reason: 1),
            ]),
    ]

    @Test(arguments: packets) func everyPacketTypeRoundTrips(_ packet: Packet) throws {
        let bytes = packet.encoded()
        #expect(try Packet.decode(bytes) == packet)
    }

    @Test func clientHandshakePacketsArePaddedAndEveryHostReplyIsSmaller() {
        let request = Packet.connectRequest(clientID: 1).encoded()
        let response = Packet.challengeResponse(clientID: 1, cookie: .init(expiresNs: 0, mac: 0), initialSequence: 0)
        #expect(request.count == Packet.paddedHandshakeSize)
        #expect(response.encoded().count == Packet.paddedHandshakeSize)
        let replies: [Packet] = [
            .challenge(clientID: 1, cookie: .init(expiresNs: 0, mac: 0)),
            .accept(clientID: 1, connectionID: 2, token: 3, initialSequence: 4), .reject(clientID: 1, reason: .hostFull),
        ]
        for reply in replies { #expect(reply.encoded().count <= 30) }
    }

    @Test func everyTruncationOfAValidPacketIsRefused() {
        for packet in Self.packets {
            let bytes = packet.encoded()
            for length in 0..<bytes.count {
                let cut = Array(bytes.prefix(length))
                // A data packet cut exactly between two frames is a valid shorter packet.
                if case .data = packet, let shorter = try? Packet.decode(cut) {
                    guard case .data(_, let frames) = shorter, case .data(_, let all) = packet else {
                        Issue.record("a cut data packet decoded as \(shorter)")
                        continue
                    }
                    #expect(Array(all.prefix(frames.count)) == frames)
                    continue
                }
                #expect(throws: PacketError.self, "\(packet) cut to \(length)") { try Packet.decode(cut) }
            }
        }
    }

    @Test func malformedFieldsAreRefusedWithTheirReason() {
        let data = Packet.data(Self.header, frames: [.message(channel: 0, sequence: 1, payload: [1])]).encoded()
        var wrongVersion = data
        wrongVersion[0] = 1  // the version before data packets lost the connection id
        #expect(throws: PacketError.unsupportedVersion(1)) { try Packet.decode(wrongVersion) }
        var wrongType = data
        wrongType[1] = 0x7F
        #expect(throws: PacketError.unknownType(0x7F)) { try Packet.decode(wrongType) }
        var wrongFrame = data
        wrongFrame[Packet.dataHeaderSize] = 0x44
        #expect(throws: PacketError.unknownFrame(0x44)) { try Packet.decode(wrongFrame) }

        var request = Packet.connectRequest(clientID: 1).encoded()
        request[700] = 1  // padding that carries something
        #expect(throws: PacketError.badPadding) { try Packet.decode(request) }
        #expect(throws: PacketError.badPadding) { try Packet.decode(Array(Packet.connectRequest(clientID: 1).encoded().dropLast())) }

        let accept = Packet.accept(clientID: 1, connectionID: 2, token: 3, initialSequence: 4).encoded()
        #expect(throws: PacketError.tooLong(31)) { try Packet.decode(accept + [0]) }
        var reject = Packet.reject(clientID: 1, reason: .hostFull).encoded()
        reject[10] = 200
        #expect(throws: PacketError.unknownRejectReason(200)) { try Packet.decode(reject) }

        let header = Packet.data(Self.header, frames: []).encoded()
        // type, channel, sequence (4), index 3, count 3, length 1, payload
        let badIndex: [UInt8] = [2, 0, 0, 0, 0, 1, 0, 3, 0, 3, 0, 1, 0xAA]
        #expect(throws: PacketError.invalidFragment) { try Packet.decode(header + badIndex) }
        let single: [UInt8] = [2, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0xAA]
        #expect(throws: PacketError.invalidFragment) { try Packet.decode(header + single) }
        let empty: [UInt8] = [2, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0]
        #expect(throws: PacketError.invalidFragment) { try Packet.decode(header + empty) }
        // A frame whose length runs past the datagram.
        let overrun: [UInt8] = [1, 0, 0, 0, 0, 1, 0, 9, 1, 2]
        #expect(throws: PacketError.truncated) { try Packet.decode(header + overrun) }

        let big = Packet.data(Self.header, frames: [.message(channel: 0, sequence: 1, payload: Array(repeating: 7, count: 1200))])
        #expect(throws: PacketError.tooLong(1230)) { try Packet.decode(big.encoded()) }
        #expect(throws: Never.self) { try Packet.decode(big.encoded(), maxSize: 1400) }
    }
}
