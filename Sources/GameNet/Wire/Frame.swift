/// One unit inside a data packet. Several frames (messages, fragments, a disconnect) share a
/// datagram up to the MTU; the packet's header carries the acks for all of them.
///
/// ```
/// message    0x01  channel (1)  message sequence (2)  length (2)  payload
/// fragment   0x02  channel (1)  message sequence (2)  index (2)  count (2)  length (2)  payload
/// disconnect 0x03  reason (1)
/// ping       0x04
/// ```
/// The last frame of a packet, if a message or a fragment, leaves out its length and sets the
/// type's high bit (0x81, 0x82): its payload is the rest of the datagram (as QUIC's STREAM frame
/// without its length field). Only the last frame may, and the last always does, so a packet
/// has one spelling and a length can never disagree with the datagram's.
/// The channel sequence travels as its low 16 bits, as ENet's do: the receiving channel expands
/// it (`ChannelReceiver.expand`) near what it expects, exactly for a reliable channel (its
/// window, at most 2^15, bounds how far an honest sender can be either way). A decoded frame
/// holds the 16 bits.
/// A ping asks for an ack as a message does (an idle connection's keep-alive, so its RTT is
/// measured and its peer's liveness checked); a packet of acks alone elicits none.
/// The message sequence numbers a message inside its channel (ordering, duplicate suppression,
/// "newest wins"); a fragment's count is at least 2, its index below the count, and its payload
/// not empty. Only reliable channels fragment: fragment `index` of a message of `count` takes
/// the channel sequence `start + index`, so each is acknowledged and resent on its own and its
/// message is `sequence - index`; every fragment but the last is full, which fixes its offset. The channel number is checked against the connection's channels by the
/// connection, not here: the decoder knows no configuration.
public enum Frame: Equatable, Sendable {
    /// A whole message on `channel`, with its channel `sequence`.
    case message(channel: UInt8, sequence: UInt32, payload: [UInt8])
    /// Fragment `index` of `count` of a reliable message too large for one packet.
    case fragment(channel: UInt8, sequence: UInt32, index: UInt16, count: UInt16, payload: [UInt8])
    /// The sender ends the session; `reason` is a code for why.
    case disconnect(reason: UInt8)
    /// An ack-eliciting frame with no content: the keep-alive of an idle connection.
    case ping

    static let messageType: UInt8 = 0x01
    static let fragmentType: UInt8 = 0x02
    static let disconnectType: UInt8 = 0x03
    static let pingType: UInt8 = 0x04
    /// Set in a message's or fragment's type byte: no length, the payload runs to the end.
    static let toEndFlag: UInt8 = 0x80
    /// Bytes a message frame adds to its payload, at most (the last frame of a packet has 2 fewer).
    public static let messageOverhead = 6
    /// Bytes a fragment frame adds to its payload, at most (the last frame of a packet has 2 fewer).
    public static let fragmentOverhead = 10
    /// Bytes of a disconnect frame.
    public static let disconnectSize = 2

    /// The frame's size on the wire, with its length (2 bytes more than as a packet's last frame).
    public var encodedSize: Int {
        switch self {
        case .message(_, _, let payload): return Self.messageOverhead + payload.count
        case .fragment(_, _, _, _, let payload): return Self.fragmentOverhead + payload.count
        case .disconnect: return Self.disconnectSize
        case .ping: return 1
        }
    }

    /// Appends the frame; `isLast`: it ends the packet, so a message or fragment goes without
    /// its length.
    func encode(into writer: inout WireWriter, isLast: Bool) {
        let flag = isLast ? Self.toEndFlag : 0
        switch self {
        case .message(let channel, let sequence, let payload):
            writer.u8(Self.messageType | flag)
            writer.u8(channel)
            writer.u16(UInt16(truncatingIfNeeded: sequence))
            // The connection never builds a frame beyond the MTU, far below 64 KiB.
            if !isLast { writer.u16(UInt16(truncatingIfNeeded: payload.count)) }
            writer.append(payload)
        case .fragment(let channel, let sequence, let index, let count, let payload):
            writer.u8(Self.fragmentType | flag)
            writer.u8(channel)
            writer.u16(UInt16(truncatingIfNeeded: sequence))
            writer.u16(index)
            writer.u16(count)
            if !isLast { writer.u16(UInt16(truncatingIfNeeded: payload.count)) }
            writer.append(payload)
        case .disconnect(let reason):
            writer.u8(Self.disconnectType)
            writer.u8(reason)
        case .ping:
            writer.u8(Self.pingType)
        }
    }

    /// Reads one frame at the reader's position; throws on anything but a whole, valid frame.
    static func decode(from reader: inout WireReader) throws(PacketError) -> Frame {
        guard let type = reader.u8() else { throw .truncated }
        switch type {
        case messageType, messageType | toEndFlag:
            guard let channel = reader.u8(), let sequence = reader.u16() else { throw .truncated }
            let payload = try readPayload(&reader, toEnd: type & toEndFlag != 0)
            return .message(channel: channel, sequence: UInt32(sequence), payload: payload)
        case fragmentType, fragmentType | toEndFlag:
            guard let channel = reader.u8(), let sequence = reader.u16(), let index = reader.u16(),
                let count = reader.u16()
            else { throw .truncated }
            let payload = try readPayload(&reader, toEnd: type & toEndFlag != 0)
            guard count >= 2, index < count, !payload.isEmpty else { throw .invalidFragment }
            return .fragment(channel: channel, sequence: UInt32(sequence), index: index, count: count, payload: payload)
        case disconnectType:
            guard let reason = reader.u8() else { throw .truncated }
            return .disconnect(reason: reason)
        case pingType:
            return .ping
        default:
            throw .unknownFrame(type)
        }
    }

    /// A payload: the rest of the datagram, or as long as its length says and not the last thing
    /// in it (the last frame goes without its length: one spelling per packet).
    private static func readPayload(_ reader: inout WireReader, toEnd: Bool) throws(PacketError) -> [UInt8] {
        if toEnd {
            guard let payload = reader.take(reader.remaining) else { throw .truncated }
            return payload
        }
        guard let length = reader.u16(), let payload = reader.take(Int(length)) else { throw .truncated }
        guard reader.remaining > 0 else { throw .lengthOnLastFrame }
        return payload
    }
}
