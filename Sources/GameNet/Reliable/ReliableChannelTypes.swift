import NetCore

/// Settings of a `ReliableChannel`. Both ends should use the same `maxMessageSize`: a peer
/// drops (as malformed) a message larger than its own limit.
public struct ReliableChannelOptions: Sendable, Equatable {
    /// The largest message, in bytes. A message travels in one datagram of 18 bytes more, so the
    /// default (1200) fits the 1280-byte IPv6 minimum MTU and is never fragmented. At most 65_489.
    public var maxMessageSize = 1200
    /// Messages sent but not yet acknowledged; `send` parks while this many are in flight.
    /// Bounds the send buffer to `sendWindow × maxMessageSize` bytes. 1...32_768.
    public var sendWindow = 64
    /// Messages held on the receiving side: received but not yet taken by `receive()`, plus
    /// those that arrived early (out of order). A packet further ahead is dropped unacknowledged
    /// and resent later. Bounds the receive buffer to `receiveWindow × maxMessageSize` bytes. 1...32_768.
    public var receiveWindow = 64
    /// The retransmission timeout before the first round-trip measurement.
    public var initialRTO: Duration = .milliseconds(200)
    /// The floor of the estimated retransmission timeout (smoothed RTT + 4 × RTT variance).
    public var minRTO: Duration = .milliseconds(20)
    /// The cap of the retransmission timeout, also of each packet's exponential back-off.
    public var maxRTO: Duration = .seconds(2)
    /// With messages unacknowledged, hearing nothing from the peer for this long fails the
    /// channel with `ReliableChannelError.peerUnresponsive`.
    public var peerTimeout: Duration = .seconds(10)
    /// After `close()`, how long unacknowledged messages (and the close itself) are still resent
    /// before the channel gives up on them.
    public var lingerTimeout: Duration = .seconds(2)

    /// The defaults above.
    public init() {}

    /// Why these options cannot work, or nil.
    var problem: String? {
        if !(1...65_489).contains(maxMessageSize) { return "maxMessageSize \(maxMessageSize) is outside 1...65489" }
        if !(1...32_768).contains(sendWindow) { return "sendWindow \(sendWindow) is outside 1...32768" }
        if !(1...32_768).contains(receiveWindow) { return "receiveWindow \(receiveWindow) is outside 1...32768" }
        if minRTO <= .zero || maxRTO < minRTO { return "need 0 < minRTO <= maxRTO (got \(minRTO), \(maxRTO))" }
        if initialRTO <= .zero || peerTimeout <= .zero || lingerTimeout < .zero {
            return "initialRTO and peerTimeout must be positive, lingerTimeout not negative"
        }
        return nil
    }
}

/// Errors a `ReliableChannel` throws.
public enum ReliableChannelError: Error, Equatable, CustomStringConvertible {
    /// The message is larger than `ReliableChannelOptions.maxMessageSize`; nothing was sent.
    case messageTooLarge(size: Int, limit: Int)
    /// This side called `close()`.
    case closed
    /// The peer closed the channel. Every message it sent before closing has been received.
    case peerClosed
    /// Messages were unacknowledged and nothing came from the peer for `silentFor`.
    case peerUnresponsive(silentFor: Duration)
    /// The socket failed (it was closed under the channel, say).
    case socketFailed(NetError)
    /// The options cannot work; the reason says which one.
    case invalidOptions(String)

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .messageTooLarge(let size, let limit):
            return
                "message of \(size) bytes is larger than the channel's limit of \(limit) bytes; split it or raise maxMessageSize on both ends"
        case .closed:
            return "the reliable channel was closed by this side"
        case .peerClosed:
            return "the peer closed the reliable channel; every message it sent before closing has been received"
        case .peerUnresponsive(let silence):
            return "the peer sent nothing for \(silence) while messages were unacknowledged; it is gone or unreachable"
        case .socketFailed(let error):
            return "the reliable channel's socket failed: \(error)"
        case .invalidOptions(let reason):
            return "invalid reliable channel options: \(reason)"
        }
    }
}

/// Counters of a `ReliableChannel`, for tuning and for tests.
public struct ReliableChannelStats: Sendable, Equatable, CustomStringConvertible {
    /// Messages passed to `send` and transmitted (first transmissions only).
    public var sent = 0
    /// Retransmissions (of messages and of the close).
    public var resent = 0
    /// Messages the peer acknowledged.
    public var acked = 0
    /// Messages handed out by `receive()`.
    public var received = 0
    /// Data packets dropped because their message had already arrived.
    public var duplicatesDropped = 0
    /// Messages that arrived ahead of a missing one and waited in the reorder buffer.
    public var outOfOrderBuffered = 0
    /// Data packets dropped because they were beyond the receive window (resent by the peer later).
    public var beyondWindowDropped = 0
    /// Datagrams from the peer that were not well-formed packets (ignored).
    public var malformedPackets = 0
    /// Datagrams from an address other than the peer (ignored).
    public var foreignPackets = 0
    /// Ack-only packets sent.
    public var acksSent = 0
    /// Datagrams not sent because the socket's send buffer was full (they are resent on timeout).
    public var sendBufferFull = 0
    /// The most messages ever in flight at once (at most `sendWindow`).
    public var sendWindowHighWater = 0
    /// The most messages ever held on the receiving side at once (at most `receiveWindow`).
    public var receiveBufferHighWater = 0
    /// Payload bytes held now, in both directions.
    public var bufferedBytes = 0
    /// The most payload bytes ever held at once, in both directions.
    public var bufferedBytesHighWater = 0
    /// The smoothed round-trip time, once measured.
    public var smoothedRTT: Duration?
    /// The retransmission timeout in force.
    public var retransmissionTimeout: Duration = .zero

    /// The counters on one line, for logs.
    public var description: String {
        "sent=\(sent) resent=\(resent) acked=\(acked) received=\(received) dup=\(duplicatesDropped) "
            + "ooo=\(outOfOrderBuffered) beyond=\(beyondWindowDropped) malformed=\(malformedPackets) "
            + "foreign=\(foreignPackets) acks=\(acksSent) windowHW=\(sendWindowHighWater) "
            + "recvHW=\(receiveBufferHighWater) bytesHW=\(bufferedBytesHighWater) rto=\(retransmissionTimeout)"
    }
}
