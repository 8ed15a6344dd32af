/// The wire format of `ReliableChannel`: one packet per UDP datagram, big-endian.
///
/// ```
/// 0  magic "Rc" (2 bytes)    2  version (1)    3  kind (1: data, 2: ack, 3: fin)
/// 4  sequence (4)            8  ack (4)        12 ack bits (4)
/// 16 payload length (2, data only)             18 payload
/// ```
/// Every packet carries the sender's acknowledgement state, so data packets ack for free.
/// `ack` is the next sequence number the sender of the packet expects (everything before it
/// arrived); bit `i` of `ackBits` says that sequence `ack + 1 + i` arrived too (selective acks
/// for the 32 packets after the first hole). An ack packet's `sequence` is unused (0).
///
/// Decoding checks every field and the exact length: a datagram that is not a well-formed
/// packet is rejected as a whole (the channel counts and ignores it), never half-read.
struct ReliablePacket: Equatable {
    enum Kind: UInt8 {
        /// A message; occupies one sequence number.
        case data = 1
        /// Acknowledgement state only.
        case ack = 2
        /// The sender closed; occupies one sequence number after its last message.
        case fin = 3
    }

    static let magic: (UInt8, UInt8) = (0x52, 0x63)  // "Rc"
    static let version: UInt8 = 1
    /// Bytes before the payload length: magic, version, kind, sequence, ack, ack bits.
    static let baseHeaderSize = 16
    /// Bytes before a data packet's payload.
    static let dataHeaderSize = 18

    var kind: Kind
    var sequence: UInt32
    var ack: UInt32
    var ackBits: UInt32
    var payload: [UInt8] = []

    /// The datagram for this packet.
    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(kind == .data ? Self.dataHeaderSize + payload.count : Self.baseHeaderSize)
        out.append(Self.magic.0)
        out.append(Self.magic.1)
        out.append(Self.version)
        out.append(kind.rawValue)
        Self.append(sequence, to: &out)
        Self.append(ack, to: &out)
        Self.append(ackBits, to: &out)
        if kind == .data {
            // The channel caps messages well below 64 KiB (a UDP datagram's limit), so this fits.
            let length = UInt16(truncatingIfNeeded: payload.count)
            out.append(UInt8(length >> 8))
            out.append(UInt8(length & 0xFF))
            out.append(contentsOf: payload)
        }
        return out
    }

    /// Parses a datagram; nil unless it is exactly one well-formed packet whose payload is at
    /// most `maxPayload` bytes.
    static func decode(_ bytes: [UInt8], maxPayload: Int) -> ReliablePacket? {
        guard bytes.count >= baseHeaderSize, bytes[0] == magic.0, bytes[1] == magic.1, bytes[2] == version,
            let kind = Kind(rawValue: bytes[3])
        else { return nil }
        var packet = ReliablePacket(
            kind: kind, sequence: read32(bytes, at: 4), ack: read32(bytes, at: 8), ackBits: read32(bytes, at: 12))
        switch kind {
        case .ack, .fin:
            guard bytes.count == baseHeaderSize else { return nil }
        case .data:
            guard bytes.count >= dataHeaderSize else { return nil }
            let length = Int(bytes[16]) << 8 | Int(bytes[17])
            guard length <= maxPayload, bytes.count == dataHeaderSize + length else { return nil }
            packet.payload = Array(bytes[dataHeaderSize...])
        }
        return packet
    }

    private static func append(_ value: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: value >> 24))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }

    private static func read32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}

/// Sequence numbers wrap at 2^32: compare them by signed distance (RFC 1982 serial arithmetic),
/// which is exact while the window is far below 2^31.
@inline(__always) func sequenceDistance(from base: UInt32, to sequence: UInt32) -> Int {
    Int(Int32(bitPattern: sequence &- base))
}
