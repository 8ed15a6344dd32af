/// Counters of one connection, for tuning, the game's HUD and tests.
public struct ConnectionStats: Sendable, Equatable {
    public var packetsSent = 0
    public var packetsReceived = 0
    public var bytesSent = 0
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
    /// Empty packets sent for keep-alive or for acks alone.
    public var keepAlivesSent = 0
    /// The smoothed round-trip time and its variance (RFC 6298), once measured.
    public var smoothedRTTNs: Int64?
    public var rttVarianceNs: Int64 = 0
    public var retransmissionTimeoutNs: Int64 = 0
    /// Packets with reliable messages allowed in flight now.
    public var congestionWindow = 0
    /// Bytes the peer's partial fragmented messages hold on this side (payloads and bookkeeping).
    public var reassemblyBytes = 0

    /// Lost packets over packets sent, 0...1.
    public var lossRate: Double { packetsSent == 0 ? 0 : Double(packetsLost) / Double(packetsSent) }
}
