import Testing

@testable import GameNet

/// The wire format: each packet type round-trips, and every malformed datagram is refused whole.
@Suite struct PacketTests {
    static let header = Packet.DataHeader(token: 99, sequence: 5, ack: 0xFFFF_FFFF, ackBits: 0b1011)
    /// As a live session sends it: the low 16 bits of sequence and ack.
    static let narrowHeader = Packet.DataHeader(token: 99, sequence: 0xBEEF, ack: 0x1234, ackBits: 0b1011, isWide: false)
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
        .data(narrowHeader, frames: [.ping]),
        .data(
            narrowHeader,
            frames: [
                .message(channel: 0, sequence: 3, payload: Array("hello".utf8)),
                .fragment(channel: 1, sequence: 9, index: 2, count: 3, payload: [1, 2, 3, 4]),
            ]),
        .data(narrowHeader, frames: [.message(channel: 3, sequence: 7, payload: [])]),
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
        for reply in replies { #expect(reply.encoded().count <= 29) }
    }

    @Test func aLiveSessionsDataHeaderIsSeventeenBytesAndItsLastFrameHasNoLength() {
        // version and type in one byte, token, 16-bit sequence and ack, 32 ack bits; a message
        // frame of type, channel, 16-bit channel sequence (and a length unless it is the last).
        let message = Packet.data(Self.narrowHeader, frames: [.message(channel: 2, sequence: 1, payload: [9, 9, 9])]).encoded()
        #expect(message.count == 17 + 4 + 3)
        #expect(message[0] == Packet.version << 4 | 6)
        #expect(Array(message[9..<13]) == [0xBE, 0xEF, 0x12, 0x34])
        #expect(message[17] == 0x81)  // a message running to the end
        // Two frames: the first keeps its length, the last goes without.
        let two = Packet.data(
            Self.narrowHeader, frames: [.message(channel: 0, sequence: 1, payload: [1]), .message(channel: 0, sequence: 2, payload: [2])])
        #expect(two.encoded().count == 17 + (6 + 1) + (4 + 1))
        let wide = Packet.data(Self.header, frames: []).encoded()
        #expect(wide.count == Packet.dataHeaderSize)
        #expect(wide[0] == Packet.version << 4 | 10)
    }

    @Test func aSixteenBitSequenceExpandsToTheNearestValueEitherWayAcrossTheWrap() {
        // Near 0x0001_FFF0, 0x0005 is 21 ahead (across a 16-bit wrap), 0xFF00 is 240 behind.
        #expect(expandSequence(UInt32(0x0005), bits: 16, near: 0x0001_FFF0) == 0x0002_0005)
        #expect(expandSequence(UInt32(0xFF00), bits: 16, near: 0x0001_FFF0) == 0x0001_FF00)
        // Across the 32-bit wrap, both ways.
        #expect(expandSequence(UInt32(0x0003), bits: 16, near: 0xFFFF_FFFE) == 0x0000_0003)
        #expect(expandSequence(UInt32(0xFFFA), bits: 16, near: 0x0000_0002) == 0xFFFF_FFFA)
        // The window is [reference - 2^15, reference + 2^15).
        #expect(expandSequence(UInt32(0x8000), bits: 16, near: 0x0001_0000) == 0x0000_8000)
        #expect(expandSequence(UInt32(0x7FFF), bits: 16, near: 0x0001_0000) == 0x0001_7FFF)
        // A 64-bit counter from 32 bits, as the cipher does.
        #expect(expandSequence(UInt64(0x0000_0002), bits: 32, near: 0x1_FFFF_FFF0) == 0x2_0000_0002)
        for reference: UInt32 in [0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0xFFFF_0000, 0xFFFF_FFFF] {
            for distance in [-32768, -1000, -1, 0, 1, 1000, 32767] {
                let value = reference &+ UInt32(bitPattern: Int32(distance))
                #expect(expandSequence(value & 0xFFFF, bits: 16, near: reference) == value, "\(reference) \(distance)")
            }
        }
    }

    @Test func everyTruncationOfAValidPacketIsRefused() {
        for packet in Self.packets {
            let bytes = packet.encoded()
            for length in 0..<bytes.count {
                let cut = Array(bytes.prefix(length))
                // A data packet cut between two frames is a valid shorter packet, and one cut
                // inside its last frame (which has no length) a packet whose last payload is
                // shorter: the wire's checksum and, encrypted, the tag keep datagrams whole, as
                // QUIC's STREAM frames without a length rely on. Nothing else decodes.
                if case .data = packet, let shorter = try? Packet.decode(cut) {
                    guard case .data(_, let frames) = shorter, case .data(_, let all) = packet else {
                        Issue.record("a cut data packet decoded as \(shorter)")
                        continue
                    }
                    #expect(frames.count <= all.count)
                    #expect(Array(all.prefix(frames.count).dropLast()) == Array(frames.dropLast()))
                    if let last = frames.last {
                        let whole = all[frames.count - 1]
                        #expect(last == whole || (frames.count == all.count && Self.isShortened(last, of: whole)), "\(last)")
                    }
                    continue
                }
                #expect(throws: PacketError.self, "\(packet) cut to \(length)") { try Packet.decode(cut) }
            }
        }
    }

    /// Whether `frame` is `whole` with its payload cut short.
    static func isShortened(_ frame: Frame, of whole: Frame) -> Bool {
        switch (frame, whole) {
        case (.message(let c, let s, let p), .message(let wc, let ws, let wp)):
            return c == wc && s == ws && wp.starts(with: p)
        case (.fragment(let c, let s, let i, let n, let p), .fragment(let wc, let ws, let wi, let wn, let wp)):
            return c == wc && s == ws && i == wi && n == wn && wp.starts(with: p)
        default: return false
        }
    }

    @Test func malformedFieldsAreRefusedWithTheirReason() throws {
        let data = Packet.data(Self.header, frames: [.message(channel: 0, sequence: 1, payload: [1])]).encoded()
        var wrongVersion = data
        wrongVersion[0] = 2  // version 2 sent the version in a byte of its own
        #expect(throws: PacketError.unsupportedVersion(2)) { try Packet.decode(wrongVersion) }
        wrongVersion[0] = 4 << 4 | 6
        #expect(throws: PacketError.unsupportedVersion(4)) { try Packet.decode(wrongVersion) }
        var wrongType = data
        wrongType[0] = Packet.version << 4 | 0x0F
        #expect(throws: PacketError.unknownType(0x0F)) { try Packet.decode(wrongType) }
        var wrongFrame = data
        wrongFrame[Packet.dataHeaderSize] = 0x44
        #expect(throws: PacketError.unknownFrame(0x44)) { try Packet.decode(wrongFrame) }

        var request = Packet.connectRequest(clientID: 1).encoded()
        request[700] = 1  // padding that carries something
        #expect(throws: PacketError.badPadding) { try Packet.decode(request) }
        #expect(throws: PacketError.badPadding) { try Packet.decode(Array(Packet.connectRequest(clientID: 1).encoded().dropLast())) }

        let accept = Packet.accept(clientID: 1, connectionID: 2, token: 3, initialSequence: 4).encoded()
        #expect(throws: PacketError.tooLong(30)) { try Packet.decode(accept + [0]) }
        var reject = Packet.reject(clientID: 1, reason: .hostFull).encoded()
        reject[9] = 200
        #expect(throws: PacketError.unknownRejectReason(200)) { try Packet.decode(reject) }

        let header = Packet.data(Self.header, frames: []).encoded()
        // The last frame: type 0x82, channel, sequence (2), index 3, count 3, payload to the end.
        let badIndex: [UInt8] = [0x82, 0, 0, 1, 0, 3, 0, 3, 0xAA]
        #expect(throws: PacketError.invalidFragment) { try Packet.decode(header + badIndex) }
        let single: [UInt8] = [0x82, 0, 0, 1, 0, 0, 0, 1, 0xAA]
        #expect(throws: PacketError.invalidFragment) { try Packet.decode(header + single) }
        let empty: [UInt8] = [0x82, 0, 0, 1, 0, 0, 0, 2]
        #expect(throws: PacketError.invalidFragment) { try Packet.decode(header + empty) }
        // A frame whose length runs past the datagram.
        let overrun: [UInt8] = [1, 0, 0, 1, 0, 9, 1, 2]
        #expect(throws: PacketError.truncated) { try Packet.decode(header + overrun) }
        // A last frame that keeps its length: a second spelling of the same packet, refused.
        let withLength: [UInt8] = [1, 0, 0, 1, 0, 2, 1, 2]
        #expect(throws: PacketError.lengthOnLastFrame) { try Packet.decode(header + withLength) }
        #expect(
            try Packet.decode(header + [0x81, 0, 0, 1, 1, 2])
                == .data(Self.header, frames: [.message(channel: 0, sequence: 1, payload: [1, 2])]))

        let big = Packet.data(Self.header, frames: [.message(channel: 0, sequence: 1, payload: Array(repeating: 7, count: 1200))])
        #expect(throws: PacketError.tooLong(1225)) { try Packet.decode(big.encoded()) }
        #expect(throws: Never.self) { try Packet.decode(big.encoded(), maxSize: 1400) }
    }
}
