/// Counters of one connection, for tuning, the game's HUD and tests.
public struct ConnectionStats: Sendable, Equatable {
    /// Datagrams sent on this connection, acks and pings included.
    public var packetsSent = 0
    /// Datagrams received and accepted for this connection.
    public var packetsReceived = 0
    /// Bytes sent, as UDP payload (the wire size of every packet).
    public var bytesSent = 0
    /// Bytes received, as UDP payload.
    public var bytesReceived = 0
    /// Packets judged lost (no ack within the RTO, or three later packets acknowledged first).
    public var packetsLost = 0
    /// Of those, found lost by selective-ack evidence before the timer.
    public var fastRetransmits = 0
    /// Reliable messages sent again.
    public var messagesResent = 0
    /// Packets dropped as duplicates or as too old to track (older than 32 behind the newest).
    public var duplicatePackets = 0
    /// Packets with the right token that an honest peer cannot send (an ack beyond what was
    /// sent, a reliable message beyond the window, an unknown channel): dropped whole.
    public var implausiblePackets = 0
    /// Pings sent: the keep-alive of a connection idle for `keepAliveNs` (each is acked, so
    /// an idle connection still measures its RTT and loss).
    public var keepAlivesSent = 0
    /// Packets of acks alone (sent when no data packet carried the acks in time).
    public var acksSent = 0
    /// Ack-eliciting packets (messages, fragments, pings) the peer acknowledged.
    public var packetsAcked = 0
    /// The smoothed round-trip time and its variance (RFC 6298: the mean deviation, gain 1/4),
    /// once measured. An RTT includes the peer's ack delay (at most `ackDelayNs`).
    public var smoothedRTTNs: Int64?
    /// The RTT's variance as RFC 6298's mean deviation, in nanoseconds; 0 until measured.
    public var rttVarianceNs: Int64 = 0
    /// The newest and the smallest RTT sample.
    public var latestRTTNs: Int64?
    /// The smallest RTT sample so far, in nanoseconds; nil until measured.
    public var minRTTNs: Int64?
    /// Jitter: the smoothed difference between consecutive RTT samples (RFC 3550's
    /// interarrival jitter, gain 1/16), 0 until two samples.
    public var jitterNs: Int64 = 0
    /// Loss among recently judged packets (each lost or acked one moves it by 1/16), 0...1.
    public var recentLossRate = 0.0
    /// The retransmission timeout in force, in nanoseconds (RFC 6298, within `minRTONs`...`maxRTONs`).
    public var retransmissionTimeoutNs: Int64 = 0
    /// Packets with reliable messages allowed in flight now.
    public var congestionWindow = 0
    /// Loss events the congestion window halved for: losses with a standing queue on the path
    /// (or recent loss over 15%), counted once per RTT.
    public var congestionEvents = 0
    /// Loss events taken as random (no queueing delay, low recent loss): the window kept.
    public var randomLossEvents = 0
    /// Bytes the peer's partial fragmented messages hold on this side (payloads and bookkeeping).
    public var reassemblyBytes = 0

    /// Lost over judged (lost or acked) ack-eliciting packets since the connection began,
    /// 0...1. Packets of acks alone are not judged: nothing acks them on purpose.
    public var lossRate: Double {
        packetsLost + packetsAcked == 0 ? 0 : Double(packetsLost) / Double(packetsLost + packetsAcked)
    }
}

/// What a connection counts as it goes: the counters of `ConnectionStats`, without the fields
/// a snapshot fills in from the connection's own state (RTT, window, loss rate). Kept apart so
/// that each of a host's connections carries 96 bytes of counters, not the 208 of a snapshot.
struct ConnectionCounters {
    var packetsSent = 0
    var packetsReceived = 0
    var bytesSent = 0
    var bytesReceived = 0
    var packetsLost = 0
    var fastRetransmits = 0
    var messagesResent = 0
    var duplicatePackets = 0
    var implausiblePackets = 0
    var keepAlivesSent = 0
    var acksSent = 0
    var packetsAcked = 0
}
