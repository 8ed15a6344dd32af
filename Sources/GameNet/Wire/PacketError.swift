/// Why a datagram is not a GameNet packet. The host counts these and drops the datagram before
/// it touches any state; none of them is ever answered.
public enum PacketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Shorter than its type's fixed part, or a frame runs past the end.
    case truncated
    /// Longer than the packet's type allows (bytes after a fixed-size packet, or beyond the MTU).
    case tooLong(Int)
    /// A protocol version this build does not speak.
    case unsupportedVersion(UInt8)
    /// A packet type byte this version does not define.
    case unknownType(UInt8)
    /// A client's handshake packet that is not padded to exactly `Packet.paddedHandshakeSize`
    /// bytes of which the padding is zero (the padding is what makes a reply no larger than the request).
    case badPadding
    /// A frame type byte this version does not define.
    case unknownFrame(UInt8)
    /// A fragment whose count is below 2, whose index is not below its count, or that is empty.
    case invalidFragment
    /// A reject with a reason this version does not define.
    case unknownRejectReason(UInt8)
    /// A packet's last message or fragment carries its length (the last one goes without).
    case lengthOnLastFrame

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .truncated: return "the packet ends in the middle of a field or frame"
        case .tooLong(let size): return "the packet is \(size) bytes, longer than its type allows"
        case .unsupportedVersion(let v): return "protocol version \(v) is not supported (this build speaks \(Packet.version))"
        case .unknownType(let t): return "packet type \(t) is not defined"
        case .badPadding: return "a client handshake packet must be exactly \(Packet.paddedHandshakeSize) bytes with zero padding"
        case .unknownFrame(let t): return "frame type \(t) is not defined"
        case .invalidFragment: return "a fragment needs count >= 2, index < count and a non-empty payload"
        case .unknownRejectReason(let r): return "reject reason \(r) is not defined"
        case .lengthOnLastFrame: return "the last frame of a packet must leave out its length"
        }
    }
}
