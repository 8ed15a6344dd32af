/// How a channel delivers its messages. Each channel orders independently: a lost message
/// holds back only later messages of its own channel.
public enum ChannelKind: Sendable, Equatable {
    /// Every message arrives once, in the order sent.
    case reliableOrdered
    /// Every message arrives once, as soon as it arrives.
    case reliableUnordered
    /// Messages may be lost; one older than the newest delivered is dropped (the newest wins).
    case unreliableSequenced
    /// Messages may be lost or arrive out of order; none arrives twice.
    case unreliable

    var isReliable: Bool { self == .reliableOrdered || self == .reliableUnordered }
}

/// One channel of a connection: its delivery kind and its priority (a higher priority's
/// messages go into datagrams first when the window or the MTU runs short).
public struct ChannelConfig: Sendable, Equatable {
    /// How the channel delivers: reliable or not, ordered or not.
    public var kind: ChannelKind
    /// Higher goes first when the window or the MTU runs short; 0 by default.
    public var priority: Int
    /// A channel of `kind` with `priority`.
    public init(_ kind: ChannelKind, priority: Int = 0) {
        self.kind = kind
        self.priority = priority
    }
}

/// The settings of a host or client; both ends must agree on `channels` and `mtu`.
/// Times are nanoseconds of the clock the caller feeds in (monotonic, or a simulator's).
public struct GameNetConfig: Sendable, Equatable {
    /// The channels, numbered from 0 in this order (at most 255).
    public var channels: [ChannelConfig] = [
        ChannelConfig(.reliableOrdered, priority: 2), ChannelConfig(.reliableUnordered, priority: 1),
        ChannelConfig(.unreliableSequenced), ChannelConfig(.unreliable),
    ]
    /// The largest datagram sent or accepted, 576...1472 (1,200 fits every IPv6 path).
    public var mtu = 1200
    /// Host: the most connections at once (pending ones included).
    public var maxConnections = 64
    /// Host: the most accepted handshakes whose client has not yet confirmed (half-open).
    public var maxPendingHandshakes = 32
    /// Client: how often an unanswered handshake packet is sent again.
    public var handshakeResendNs: Int64 = 100_000_000
    /// Client: give up connecting after this long. Host: drop an unconfirmed handshake after it.
    public var handshakeTimeoutNs: Int64 = 5_000_000_000
    /// Host: how long a handshake cookie stays valid.
    public var cookieLifetimeNs: Int64 = 10_000_000_000
    /// The keep-alive interval: an idle connection sends a ping (acked at once, so RTT, loss and
    /// liveness are measured while idle) once this long has passed since the peer's last
    /// ack-eliciting packet and a little longer since its own (the two sides take turns: one
    /// ping and its ack an interval between them), and at least every two intervals; times are
    /// rounded up to 1/16 of it, so a host's idle peers come due together.
    public var keepAliveNs: Int64 = 500_000_000
    /// The dead-peer timeout: a connection that has heard nothing (not even an ack or a ping)
    /// for this long is reported `.timedOut`. At least 2.5 keep-alive intervals (a live idle
    /// peer may be quiet for two and a slot); with the defaults, about 7 of this side's pings
    /// go unanswered first.
    public var timeoutNs: Int64 = 5_000_000_000
    /// The idle timeout under the name ENet and QUIC readers look for (`keepAliveNs`).
    public var idleTimeoutNs: Int64 {
        get { keepAliveNs }
        set { keepAliveNs = newValue }
    }
    /// The dead-peer timeout under its own name (`timeoutNs`).
    public var deadPeerTimeoutNs: Int64 {
        get { timeoutNs }
        set { timeoutNs = newValue }
    }
    /// How long an ack may wait for a packet to ride on, or for a second packet to acknowledge
    /// with it, before it goes alone: 20 ms by default (so a 60 Hz stream's acks pair up, as
    /// QUIC's max_ack_delay of 25 ms does).
    public var ackDelayNs: Int64 = 20_000_000
    /// An ack goes at once when this many ack-eliciting packets wait for it: 2 by default (RFC
    /// 9000 §13.2.2); 1 acks every packet at once.
    public var ackEveryPackets: Int = 2
    /// The retransmission timeout before the first RTT sample, and its floor and cap.
    public var initialRTONs: Int64 = 200_000_000
    /// The floor of the retransmission timeout: 20 ms by default.
    public var minRTONs: Int64 = 20_000_000
    /// The cap of the retransmission timeout (its back-off stops there): 2 s by default.
    public var maxRTONs: Int64 = 2_000_000_000
    /// Reliable messages a channel has in flight beyond its oldest unacknowledged one; also the
    /// receiver's reorder buffer per channel, so it bounds the receiver's memory.
    public var reliableWindow = 256
    /// Messages a channel may hold unsent or unacknowledged before `send` refuses more.
    public var maxQueuedMessages = 4_096
    /// Packets carrying reliable messages in flight before the first loss (the congestion window starts here).
    public var initialCongestionWindow = 32
    /// The bandwidth cap of each connection in wire bytes per second (0: none). A token
    /// bucket in the machine: data packets wait for it (the congestion window applies too);
    /// acks, pings and disconnects are charged but never held back.
    public var maxBytesPerSecondPerConnection = 0
    /// Host: the cap of all its connections together (0: none), shared round-robin one
    /// packet at a time, so a busy connection cannot starve another.
    public var maxBytesPerSecondPerHost = 0
    /// How long a cap's full bucket lasts at its rate (the burst a quiet connection may send at
    /// once), at least two MTUs.
    public var bandwidthBurstNs: Int64 = 20_000_000
    /// Packet encryption (off by default); see `PacketEncryption`. It takes 16 bytes of every
    /// data packet, so the payload sizes below shrink by 16 when it is on.
    public var encryption = PacketEncryption.off

    /// The largest message `send` takes on a reliable channel; one over `maxUnfragmentedPayload`
    /// goes as fragments of `fragmentPayloadSize` bytes, each a reliable unit of its own (acked,
    /// resent and counted by the congestion window like a message). Unreliable channels refuse
    /// anything over `maxUnfragmentedPayload`: one lost fragment would lose the whole message.
    public var maxMessageSize = 1 << 20
    /// The most bytes one peer's partial messages may hold on this side (payloads plus
    /// bookkeeping). A peer whose fragments would go past it is disconnected
    /// (`.protocolViolation(.peerBudgetExceeded)`): an honest peer needs at most one
    /// `maxMessageSize` per reliable-ordered channel and `maxMessageSize` plus
    /// `reliableWindow` fragments per reliable-unordered one.
    public var maxReassemblyBytesPerPeer = 4 << 20
    /// Host: the most bytes all peers' partial messages may hold together. The peer whose
    /// fragment would go past it is disconnected (`.protocolViolation(.hostBudgetExceeded)`).
    public var maxReassemblyBytesPerHost = 64 << 20

    /// The defaults: every value as documented on its property.
    public init() {}

    /// The burst of a bucket of `rate` bytes per second.
    func bandwidthBurst(forRate rate: Int) -> Int { max(2 * mtu, Int(Int64(rate) * bandwidthBurstNs / 1_000_000_000)) }

    /// The payload of every fragment but a message's last.
    public var fragmentPayloadSize: Int { mtu - Packet.dataHeaderSize - encryption.overhead - Frame.fragmentOverhead }
    /// The most fragments a message of `maxMessageSize` needs.
    public var maxFragments: Int { (maxMessageSize + fragmentPayloadSize - 1) / fragmentPayloadSize }

    /// The largest payload one message frame can carry.
    public var maxUnfragmentedPayload: Int { mtu - Packet.dataHeaderSize - encryption.overhead - Frame.messageOverhead }

    /// The room for frames in one data packet.
    var frameBudget: Int { mtu - Packet.dataHeaderSize - encryption.overhead }

    /// Why this configuration cannot work, or nil.
    public var problem: String? {
        if channels.isEmpty || channels.count > 255 { return "need 1...255 channels (got \(channels.count))" }
        if !(576...1472).contains(mtu) { return "mtu \(mtu) is outside 576...1472" }
        if maxConnections < 1 || maxPendingHandshakes < 1 { return "maxConnections and maxPendingHandshakes must be positive" }
        if !(1...32_768).contains(reliableWindow) { return "reliableWindow \(reliableWindow) is outside 1...32768" }
        if maxQueuedMessages < reliableWindow { return "maxQueuedMessages must be at least reliableWindow" }
        if minRTONs <= 0 || maxRTONs < minRTONs || initialRTONs <= 0 { return "need 0 < minRTO <= maxRTO and initialRTO > 0" }
        if keepAliveNs <= 0 || timeoutNs < 2 * keepAliveNs + keepAliveNs / 2 {
            // A side pings at least every two intervals (rounded up a slot), and a live peer that
            // takes its turn late is quiet that long: a shorter timeout drops healthy peers.
            return "need 0 < keepAlive and timeout >= 2.5 x keepAlive"
        }
        if handshakeResendNs <= 0 || handshakeTimeoutNs <= handshakeResendNs { return "need 0 < handshakeResend < handshakeTimeout" }
        if initialCongestionWindow < 2 { return "initialCongestionWindow must be at least 2" }
        if maxBytesPerSecondPerConnection < 0 || maxBytesPerSecondPerHost < 0 || bandwidthBurstNs < 0 {
            return "bandwidth caps and their burst must not be negative"
        }
        if maxMessageSize < maxUnfragmentedPayload { return "maxMessageSize must be at least \(maxUnfragmentedPayload)" }
        if maxFragments > Int(UInt16.max) { return "maxMessageSize needs \(maxFragments) fragments, over 65535" }
        if maxFragments > maxQueuedMessages { return "maxQueuedMessages must hold the \(maxFragments) fragments of the largest message" }
        let oneMessage = Reassembler.cost(ofMessage: maxMessageSize, fragmentSize: fragmentPayloadSize)
        if maxReassemblyBytesPerPeer < oneMessage {
            return "maxReassemblyBytesPerPeer must hold one message of maxMessageSize (\(oneMessage) bytes)"
        }
        if maxReassemblyBytesPerHost < maxReassemblyBytesPerPeer {
            return "maxReassemblyBytesPerHost must be at least maxReassemblyBytesPerPeer"
        }
        return nil
    }
}
