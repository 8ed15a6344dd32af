import NetCore

/// One session's state machine once the handshake has given it an id and a token: packet
/// numbering and acks, the channels, RTT, loss detection, keep-alive and timeout. Shared by the
/// host (one per peer) and the client. Sans-I/O: fed decoded packets and the time, it appends
/// datagrams to send and events to report; it never reads a clock or a socket.
/// Not thread-safe: its owner (a `Host` or `Client`) confines it.
final class Connection {
    let id: UInt64
    let token: UInt64
    let address: SocketAddress
    /// Shared by every connection of the host (see `ConnectionSettings`).
    private let settings: ConnectionSettings
    var config: GameNetConfig { settings.config }
    let createdNs: Int64
    /// The client's id from the handshake (the host answers a repeated response with the same accept).
    let clientID: UInt64
    let initialSequence: UInt32
    private var nextSequence: UInt32
    private(set) var stats = ConnectionCounters()
    /// Each channel's two directions, in one array: one allocation per connection, not two.
    private var channels: [ChannelPair]
    private struct ChannelPair {
        var sender: ChannelSender
        var receiver: ChannelReceiver
    }
    /// Partial fragmented messages of the peer, charged to `pool` too (the host's shared budget).
    private var reassembler: Reassembler
    private let pool: ReassemblyPool
    /// Seals and opens every data packet when encryption is on.
    private let cipher: SessionCipher?
    /// Host: when this connection next needs an `update` (a lower bound the host keeps, so
    /// its `update` visits only the connections that are due).
    var cachedWakeNs: Int64 = .min
    /// Host: the accept for this session (sealed when encryption is on), sent again when the
    /// client repeats its response.
    var acceptDatagram: [UInt8] = []

    private struct SentPacket {
        var sentNs: Int64
        var reliable: [(channel: Int, sequence: UInt32)]
        /// Carries a message, a fragment or a ping, so the peer acks it soon: only these give
        /// RTT samples and are counted lost when unacknowledged (a packet of acks alone is acked
        /// only by chance, whenever the peer next sends).
        var ackEliciting: Bool
        /// The ack it carried: once the peer acknowledges the packet, it has seen this ack.
        var carriedAck: UInt32
    }
    /// Packets sent and neither acknowledged nor judged lost.
    private var sent: [UInt32: SentPacket] = [:]
    private var reliableInFlight = 0
    /// Packets carrying reliable data that are neither acknowledged nor judged lost (for tests).
    var reliablePacketsInFlight: Int { reliableInFlight }

    /// The newest packet received, and which of the 32 before it arrived.
    private var latestReceived: UInt32
    private var receivedBits: UInt32 = 0
    private var ackDueNs: Int64?
    // (The flags sit in the bytes the optional leaves before the next 8-byte field.)
    /// Host side: accepted but not yet confirmed by a packet with the token.
    var isPending: Bool
    /// The host's side of a session: when both sides pinged at once, the client pings first
    /// next (see `pingDueNs`).
    private let isHostSide: Bool
    /// The client's confirmation: the next `update` pings whatever the times say.
    private var keepAliveForced = false
    /// The last ack-eliciting packet sent was a ping alone: the session is idle on this side.
    private var lastElicitingWasPing = false
    /// Packets received since this side last sent one (which carried the acks).
    private var unackedReceived = 0
    /// Of those, the ones that ask for an ack: the `ackEveryPackets`-th sends the ack at once.
    private var unackedEliciting = 0
    /// The last ack-eliciting packet sent and received: a ping goes when both are old enough
    /// (see `pingDueNs`).
    private var lastElicitingSentNs: Int64
    private var lastElicitingReceivedNs: Int64
    private(set) var lastReceivedNs: Int64
    private var srttNs: Int64?
    /// The newest packet of this side's the peer has acknowledged: a packet sent before it and
    /// still unacknowledged `lossDelayNs` after it went is lost (RFC 9002 §6.1.2).
    private var largestAcked: UInt32?
    /// An ack the peer has surely seen (the one carried by `largestAcked`'s packet): the peer
    /// expands a narrow ack near the newest it has seen, at or after this one.
    private var ackSeenByPeer: UInt32
    private var rttVarNs: Int64 = 0
    private var latestRTTNs: Int64?
    private var minRTTNs: Int64?
    private var jitterNs: Int64 = 0
    /// Loss over recently judged packets (gain 1/16 per packet).
    private var recentLoss = 0.0
    /// The per-connection bandwidth cap, when configured: boxed, so that a connection without
    /// one (the default) carries 8 bytes for it, not the bucket's 40.
    private let cap: BandwidthCap?
    private final class BandwidthCap {
        var bucket: TokenBucket
        init(_ bucket: TokenBucket) { self.bucket = bucket }
    }
    private var rtoNs: Int64
    private var congestion: CongestionWindow

    init(
        id: UInt64, token: UInt64, address: SocketAddress, settings: ConnectionSettings, clientID: UInt64,
        initialSequence: UInt32, peerInitialSequence: UInt32, isHostSide: Bool, nowNs: Int64, pool: ReassemblyPool,
        cipher: SessionCipher? = nil
    ) {
        self.cipher = cipher
        self.id = id
        self.token = token
        self.address = address
        self.settings = settings
        let config = settings.config
        self.clientID = clientID
        self.initialSequence = initialSequence
        self.isHostSide = isHostSide
        isPending = isHostSide  // a host's session waits for the client's first packet
        createdNs = nowNs
        nextSequence = initialSequence
        latestReceived = peerInitialSequence &- 1
        ackSeenByPeer = latestReceived  // the peer expands its first ack near this "nothing yet"
        channels = config.channels.map {
            ChannelPair(
                sender: ChannelSender(kind: $0.kind, window: config.reliableWindow, maxQueued: config.maxQueuedMessages),
                receiver: ChannelReceiver(kind: $0.kind, window: config.reliableWindow))
        }
        reassembler = Reassembler(
            fragmentSize: config.fragmentPayloadSize, maxFragments: config.maxFragments, budget: config.maxReassemblyBytesPerPeer)
        self.pool = pool
        lastElicitingSentNs = nowNs
        lastElicitingReceivedNs = nowNs
        lastReceivedNs = nowNs
        cap =
            config.maxBytesPerSecondPerConnection > 0
            ? BandwidthCap(
                TokenBucket(
                    bytesPerSecond: config.maxBytesPerSecondPerConnection,
                    burst: config.bandwidthBurst(forRate: config.maxBytesPerSecondPerConnection), nowNs: nowNs)) : nil
        rtoNs = config.initialRTONs
        congestion = CongestionWindow(
            initial: config.initialCongestionWindow, maxWindow: settings.maxCongestionWindow, ackDelayNs: config.ackDelayNs)
    }

    var connectionID: ConnectionID { ConnectionID(rawValue: id) }

    var statsSnapshot: ConnectionStats {
        var s = ConnectionStats()
        s.packetsSent = stats.packetsSent
        s.packetsReceived = stats.packetsReceived
        s.bytesSent = stats.bytesSent
        s.bytesReceived = stats.bytesReceived
        s.packetsLost = stats.packetsLost
        s.fastRetransmits = stats.fastRetransmits
        s.messagesResent = stats.messagesResent
        s.duplicatePackets = stats.duplicatePackets
        s.implausiblePackets = stats.implausiblePackets
        s.keepAlivesSent = stats.keepAlivesSent
        s.acksSent = stats.acksSent
        s.packetsAcked = stats.packetsAcked
        s.smoothedRTTNs = srttNs
        s.rttVarianceNs = rttVarNs
        s.latestRTTNs = latestRTTNs
        s.minRTTNs = minRTTNs
        s.jitterNs = jitterNs
        s.recentLossRate = recentLoss
        s.retransmissionTimeoutNs = rtoNs
        s.congestionWindow = Int(congestion.window)
        s.congestionEvents = congestion.congestionEvents
        s.randomLossEvents = congestion.randomLossEvents
        s.reassemblyBytes = reassembler.heldBytes
        return s
    }

    // MARK: - Sending

    /// Queues a message whole, or on a reliable channel as fragments (all or none of them).
    func queue(_ message: [UInt8], channel: Int) throws(GameNetError) {
        guard channels.indices.contains(channel) else { throw .noSuchChannel(channel) }
        let whole = config.maxUnfragmentedPayload
        if message.count <= whole {
            guard channels[channel].sender.room >= 1 else { throw .sendQueueFull(channel: channel) }
            channels[channel].sender.enqueue(Piece(payload: message))
            return
        }
        let limit = channels[channel].sender.kind.isReliable ? config.maxMessageSize : whole
        guard message.count <= limit else { throw .messageTooLarge(size: message.count, limit: limit) }
        let size = config.fragmentPayloadSize
        let count = (message.count + size - 1) / size  // at least 2: the message is over `size`
        guard channels[channel].sender.room >= count else { throw .sendQueueFull(channel: channel) }
        for index in 0..<count {
            let bytes = Array(message[index * size..<min(message.count, (index + 1) * size)])
            // count <= maxFragments <= 65535, checked by `GameNetConfig.problem`.
            channels[channel].sender.enqueue(Piece(payload: bytes, index: UInt16(index), count: UInt16(count)))
        }
    }

    /// Frees the peer's partial messages and gives their bytes back to the host's pool (the
    /// connection ended).
    func releaseReassembly() {
        pool.adjust(by: -reassembler.heldBytes)
        reassembler.removeAll()
    }

    /// Builds and appends the datagrams due now: queued messages coalesced up to the MTU (by
    /// channel priority, reliable ones within the congestion window, all within the bandwidth
    /// cap), else a due ack or ping alone. Also judges packets lost by the RTO and reports a
    /// dead peer.
    /// - Returns: false when the peer is dead (the caller reports `.timedOut` and removes it).
    func update(nowNs: Int64, out: inout [OutgoingDatagram]) -> Bool {
        guard expire(nowNs: nowNs) else { return false }
        var sentData = false
        while let datagram = nextDataPacket(nowNs: nowNs) {
            out.append(OutgoingDatagram(bytes: datagram, to: address))
            sentData = true
        }
        sendControl(nowNs: nowNs, sentData: sentData, out: &out)
        return true
    }

    /// The first step of `update`: the dead-peer check, then packets lost by the RTO.
    /// - Returns: false when nothing came from the peer for `timeoutNs`.
    func expire(nowNs: Int64) -> Bool {
        if !isPending, nowNs - lastReceivedNs >= config.timeoutNs { return false }
        detectTimeouts(nowNs: nowNs)
        return true
    }

    /// Whether a data packet would go now but for the bandwidth caps: a message queued, or a
    /// reliable one within the receiver's window and the congestion window.
    var hasSendable: Bool {
        guard !isPending else { return false }
        let windowOpen = Double(reliableInFlight) < congestion.window
        return channels.contains { $0.sender.hasSendable && (windowOpen || !$0.sender.kind.isReliable) }
    }

    /// One datagram of queued messages, if any is sendable and the connection's cap allows.
    /// The caller checks the host's cap and charges it.
    func nextDataPacket(nowNs: Int64) -> [UInt8]? {
        if let cap {
            cap.bucket.refill(nowNs: nowNs)
            guard cap.bucket.allowsData else { return nil }
        }
        return buildPacket(nowNs: nowNs)
    }

    /// The last step of `update`: an ack alone when one is due and no data packet carried it,
    /// and a ping when the keep-alive is due (`pingDueNs`: an idle connection's turn; its ack
    /// gives an RTT sample and tells the peer this side is alive).
    func sendControl(nowNs: Int64, sentData: Bool, out: inout [OutgoingDatagram]) {
        guard !sentData, !isPending else { return }
        let ackDue = ackDueNs.map { nowNs >= $0 } ?? false
        if nowNs >= pingDueNs {
            out.append(OutgoingDatagram(bytes: makePacket(frames: [.ping], nowNs: nowNs), to: address))
            stats.keepAlivesSent += 1
        } else if ackDue {
            out.append(OutgoingDatagram(bytes: emptyPacket(nowNs: nowNs), to: address))
            stats.acksSent += 1
        }
    }

    /// The next time `update` has something to do: a due ack, a ping, a resend, the dead-peer
    /// timeout; when a message is sendable, when the connection's cap next allows it (a time at
    /// or before now if it does already).
    func nextWakeNs(includingData: Bool = true) -> Int64 {
        var wake = isPending ? createdNs + config.handshakeTimeoutNs : lastReceivedNs + config.timeoutNs
        if !isPending { wake = min(wake, pingDueNs) }
        if let ackDueNs { wake = min(wake, ackDueNs) }
        let lossDelay = lossDelayNs
        for (sequence, packet) in sent where packet.ackEliciting {
            wake = min(wake, packet.sentNs + rtoNs)
            // Behind the newest acked: lost at the time threshold, if no ack comes first.
            if let largestAcked, lossDelay != .max, sequenceDistance(from: sequence, to: largestAcked) >= 1 {
                wake = min(wake, packet.sentNs + lossDelay)
            }
        }
        if includingData, let ready = dataReadyNs { wake = min(wake, ready) }
        return wake
    }

    /// When a sendable message may go under the connection's cap (at or before now if it may
    /// already), or nil when nothing is sendable.
    var dataReadyNs: Int64? { hasSendable ? (cap?.bucket.readyAtNs() ?? createdNs) : nil }

    /// Packets sent as the last words of a closing connection: the disconnect, three times
    /// (no ack is awaited; a peer that misses all three times out).
    func closingDatagrams(nowNs: Int64) -> [OutgoingDatagram] {
        (0..<3).map { _ in
            OutgoingDatagram(bytes: makePacket(frames: [.disconnect(reason: 0)], nowNs: nowNs), to: address)
        }
    }

    /// When the keep-alive ping is due. The two sides of an idle session take turns, as ENet's
    /// peers do (it pings a peer it has heard nothing from for the interval): the peer's ping
    /// proves it alive, so one ping and its ack per interval pass between them (two datagrams,
    /// not four as when each side pings on its own clock). The turn passes only by a packet
    /// that asks for an ack: the ack of this side's own ping is the peer answering, not taking
    /// its turn.
    ///
    /// The side that pinged last waits a slack longer than the interval, an eighth of it plus
    /// the RTT, so that the other side's ping has arrived by then. Without it both sides'
    /// timers end at the same instant on any link (each counts the interval from the other's
    /// packet), and a timer that fires as the peer's ping is in flight pings too; two sides
    /// that pinged at once would keep doing so forever. The host waits twice the slack, so that
    /// such a tie breaks: the client goes first. A side sends an ack-eliciting packet at least
    /// every two intervals, received packets or not, so one that only receives (a spectator of
    /// a stream) still measures its RTT. That cap has no slack: with one, a host receiving a
    /// 60 Hz stream pinged every 1.2 s and the stream's p90 delivery rose (see
    /// `ConnectionStatsTests`); two idle sides may then ping every two intervals each, an
    /// interval apart, still one ping an interval between them. A silent peer is pinged every
    /// interval and a slack until the timeout.
    private var pingDueNs: Int64 {
        if keepAliveForced { return .min / 2 }
        let keepAlive = config.keepAliveNs
        let slack = (keepAlive / 8 + (srttNs ?? 0)) * (isHostSide ? 2 : 1)
        let turn = max(lastElicitingSentNs + keepAlive + slack, lastElicitingReceivedNs + keepAlive)
        return Self.onPingGrid(min(turn, lastElicitingSentNs + 2 * keepAlive), keepAlive: keepAlive)
    }

    /// A ping time rounded up to the next 1/16 of the interval (31 ms by default) on the
    /// monotonic clock: a host's idle peers then come due together, one wake-up for all of a
    /// slot's pings instead of one each (1,000 idle peers: a slot's worth per wake, not one).
    /// Later by less than half the slack, so the turns keep their order (the peer's ping still
    /// lands before this side's time).
    private static func onPingGrid(_ timeNs: Int64, keepAlive: Int64) -> Int64 {
        let slot = max(keepAlive / 16, 1)
        let (quotient, remainder) = timeNs.quotientAndRemainder(dividingBy: slot)
        // Division truncates toward zero: for a time at or before 0, quotient * slot is already
        // at or after it.
        return remainder > 0 ? (quotient + 1) * slot : quotient * slot
    }

    /// Makes the next `update` send a ping even if nothing is due (the client's confirmation).
    func forceKeepAlive() { keepAliveForced = true }

    private func emptyPacket(nowNs: Int64) -> [UInt8] { makePacket(frames: [], nowNs: nowNs) }

    private func makePacket(frames: [Frame], nowNs: Int64, reliable: [(channel: Int, sequence: UInt32)] = []) -> [UInt8] {
        let header = Packet.DataHeader(
            token: token, sequence: nextSequence, ack: latestReceived, ackBits: receivedBits, isWide: needsWideHeader)
        let plain = Packet.data(header, frames: frames).encoded()
        // A seal fails only if OpenSSL does (out of memory): the packet is then lost on the
        // wire, as any packet may be, and the acks and resends recover.
        let bytes = cipher.map { $0.seal(plain, headerSize: header.encodedSize) ?? [] } ?? plain
        let eliciting = !frames.isEmpty
        sent[nextSequence] = SentPacket(sentNs: nowNs, reliable: reliable, ackEliciting: eliciting, carriedAck: latestReceived)
        if !reliable.isEmpty { reliableInFlight += 1 }
        nextSequence &+= 1
        if eliciting {
            lastElicitingSentNs = nowNs
            lastElicitingWasPing = frames.count == 1 && frames[0] == .ping
            keepAliveForced = false
        }
        ackDueNs = nil  // every packet carries the acks
        unackedReceived = 0
        unackedEliciting = 0
        stats.packetsSent += 1
        stats.bytesSent += bytes.count
        cap?.bucket.spend(bytes.count)
        return bytes
    }

    /// Whether the next packet carries its sequence and ack whole (`dataWide`): when either
    /// could be 2^14 or more from the value the peer expands it near, half the 2^15 that 16 bits
    /// resolve (QUIC's rule, RFC 9000 §17.1). The peer has received at least up to
    /// `largestAcked` and seen at least `ackSeenByPeer`, so those bound the distances. Narrow
    /// all the time on a live session; wide after 16,384 packets unacknowledged (a long
    /// one-way outage), until acks catch up.
    private var needsWideHeader: Bool {
        sequenceDistance(from: ackReference, to: nextSequence) >= 1 << 14
            || sequenceDistance(from: ackSeenByPeer, to: latestReceived) >= 1 << 14
    }

    /// The newest of this side's packets the peer is known to have: the newest acked, or before
    /// any ack, one before the first (the honest "nothing yet"). The peer has received at least
    /// this far, and an ack it sends is at or after it.
    private var ackReference: UInt32 { largestAcked ?? initialSequence &- 1 }

    /// A narrow header's sequence and ack expanded to 32 bits: the sequence near the newest
    /// received, the ack near the newest acked (before any, near "nothing yet"); a wide one as
    /// it is. Pure: the host calls it to open a sealed packet, then `receive` again.
    func expanded(_ header: Packet.DataHeader) -> Packet.DataHeader {
        guard !header.isWide else { return header }
        var wide = header
        wide.sequence = expandSequence(header.sequence, bits: 16, near: latestReceived)
        wide.ack = expandSequence(header.ack, bits: 16, near: ackReference)
        wide.isWide = true
        return wide
    }

    private func buildPacket(nowNs: Int64) -> [UInt8]? {
        guard !isPending else { return nil }
        var budget = config.frameBudget
        var frames: [Frame] = []
        var reliable: [(channel: Int, sequence: UInt32)] = []
        let windowOpen = Double(reliableInFlight) < congestion.window
        for channel in settings.sendOrder {
            if channels[channel].sender.kind.isReliable {
                guard windowOpen else { continue }
                while let (sequence, piece) = channels[channel].sender.peekSendable() {
                    let frame = piece.frame(channel: UInt8(channel), sequence: sequence)
                    guard frame.encodedSize <= budget else { break }
                    channels[channel].sender.dropFirstSendable()
                    frames.append(frame)
                    reliable.append((channel, sequence))
                    budget -= frame.encodedSize
                }
            } else {
                var messages = channels[channel].sender.takeUnreliable()
                var taken = 0
                while taken < messages.count, Frame.messageOverhead + messages[taken].payload.count <= budget {
                    let m = messages[taken]
                    frames.append(.message(channel: UInt8(channel), sequence: m.sequence, payload: m.payload))
                    budget -= Frame.messageOverhead + m.payload.count
                    taken += 1
                }
                messages.removeFirst(taken)
                channels[channel].sender.returnUnreliable(messages)
            }
        }
        guard !frames.isEmpty else { return nil }
        return makePacket(frames: frames, nowNs: nowNs, reliable: reliable)
    }

    // MARK: - Receiving

    /// What a received packet asks of the owner.
    enum Outcome: Equatable {
        /// Dropped as duplicate or implausible: nothing changed but a counter.
        case dropped
        case accepted
        /// It carried a disconnect: the owner reports `.closedByPeer` and removes the connection.
        case peerClosed
        /// Its fragments broke the reassembly rules or budget: the owner sends the closing
        /// datagrams, reports `.protocolViolation` and removes the connection.
        case violation(ReassemblyError)
    }

    /// Whether packets are sealed on this session.
    var isEncrypted: Bool { cipher != nil }

    /// The plaintext of a sealed data datagram whose token and address the owner
    /// checked, or nil (nothing changed) if it fails authentication or is a replay.
    /// `header` is the datagram's clear header, as the owner read it to find the session.
    func open(_ datagram: [UInt8], header: Packet.DataHeader) -> [UInt8]? {
        guard let cipher else { return nil }
        return cipher.open(datagram, sequence: expanded(header).sequence, headerSize: header.encodedSize)
    }

    /// Takes one data packet whose token and source address the owner has
    /// checked (and, encrypted, that opened). Validates all of it before changing anything.
    func receive(_ wireHeader: Packet.DataHeader, frames: [Frame], size: Int, nowNs: Int64, events: inout [GameNetEvent])
        -> Outcome
    {
        // Each frame's 16-bit channel sequence is expanded once, before any frame of the packet
        // moves its channel on, into scratch on the stack (this runs for every packet).
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: frames.count) { sequences in
            receive(expanded(wireHeader), frames: frames, sequences: sequences, size: size, nowNs: nowNs, events: &events)
        }
    }

    /// `receive` with the header expanded and room for each frame's expanded channel sequence.
    private func receive(
        _ header: Packet.DataHeader, frames: [Frame], sequences: UnsafeMutableBufferPointer<UInt32>, size: Int, nowNs: Int64,
        events: inout [GameNetEvent]
    ) -> Outcome {
        // An honest ack names a packet this side sent: not beyond the newest, and not before the
        // first (`initialSequence - 1`, one before it, is the honest "nothing yet"). Anything
        // else is dropped whole: acking a packet never sent would free, resend or count lost
        // packets on a lie.
        let ackDistance = sequenceDistance(from: header.ack, to: nextSequence)
        guard ackDistance >= 1, ackDistance <= min(stats.packetsSent + 1, 1 << 30) else {
            stats.implausiblePackets += 1
            return .dropped
        }
        for (i, frame) in frames.enumerated() {
            sequences.initializeElement(at: i, to: 0)
            switch frame {
            case .message(let channel, let wire, _), .fragment(let channel, let wire, _, _, _):
                guard channels.indices.contains(Int(channel)) else {
                    stats.implausiblePackets += 1
                    return .dropped
                }
                let sequence = channels[Int(channel)].receiver.expand(wire)
                sequences[i] = sequence
                guard channels[Int(channel)].receiver.isPlausible(sequence) else {
                    stats.implausiblePackets += 1
                    return .dropped
                }
                // Only reliable channels fragment, and a fragment must be well formed on its own.
                if case .fragment(_, _, let index, let count, let payload) = frame,
                    !channels[Int(channel)].receiver.kind.isReliable
                        || !reassembler.isWellFormed(index: index, count: count, size: payload.count)
                {
                    stats.implausiblePackets += 1
                    return .dropped
                }
            case .disconnect, .ping: break
            }
        }
        let distance = sequenceDistance(from: latestReceived, to: header.sequence)
        let inOrder = distance == 1
        if distance > 0 {
            receivedBits = distance >= 33 ? 0 : (distance == 32 ? 0 : receivedBits << UInt32(distance))
            if distance <= 32 { receivedBits |= 1 << UInt32(distance - 1) }
            latestReceived = header.sequence
        } else {
            let back = -distance  // 0: the newest itself
            guard back >= 1, back <= 32, receivedBits & (1 << UInt32(back - 1)) == 0 else {
                stats.duplicatePackets += 1
                return .dropped
            }
            receivedBits |= 1 << UInt32(back - 1)
        }
        stats.packetsReceived += 1
        stats.bytesReceived += size
        lastReceivedNs = nowNs
        isPending = false
        processAck(header.ack, bits: header.ackBits, nowNs: nowNs)
        var outcome = Outcome.accepted
        // Everything but a packet of acks alone asks for an ack.
        let elicitsAck = !frames.isEmpty
        if elicitsAck { lastElicitingReceivedNs = nowNs }
        var pinged = false
        for (i, frame) in frames.enumerated() {
            switch frame {
            case .message(let channel, _, let payload):
                let ready = channels[Int(channel)].receiver.accept(sequences[i], Piece(payload: payload))
                if let error = deliver(ready, channel: channel, events: &events) { return .violation(error) }
            case .fragment(let channel, _, let index, let count, let payload):
                let ready = channels[Int(channel)].receiver.accept(sequences[i], Piece(payload: payload, index: index, count: count))
                if let error = deliver(ready, channel: channel, events: &events) { return .violation(error) }
            case .disconnect: outcome = .peerClosed
            case .ping: pinged = true
            }
        }
        unackedReceived += 1
        if elicitsAck {
            unackedEliciting += 1
            // Delayed acks (RFC 9000 §13.2.2's rule): one ack for every `ackEveryPackets`
            // ack-eliciting packets, or after `ackDelayNs` for fewer; at once for a packet out of
            // order (a gap or a hole filled: the sender's loss detection wants that news now) and
            // for a ping (it exists to measure the RTT).
            if unackedEliciting >= config.ackEveryPackets || !inOrder || pinged {
                ackDueNs = nowNs
            } else if ackDueNs == nil {
                ackDueNs = nowNs + config.ackDelayNs
            }
        }
        return outcome
    }

    /// Reports the deliverable pieces of one channel: whole messages at once, fragments through
    /// the reassembler (a message when its last fragment arrives).
    /// - Returns: the violation that ends the connection, or nil.
    private func deliver(_ ready: [(sequence: UInt32, piece: Piece)], channel: UInt8, events: inout [GameNetEvent]) -> ReassemblyError? {
        let ordered = channels[Int(channel)].receiver.kind == .reliableOrdered
        for (sequence, piece) in ready {
            guard piece.isFragment else {
                events.append(.message(connectionID, channel: Int(channel), piece.payload))
                continue
            }
            let before = reassembler.heldBytes
            do {
                let message = try reassembler.add(
                    channel: channel, sequence: sequence, index: piece.index, count: piece.count, payload: piece.payload,
                    requireStarted: ordered, hostRoom: pool.room)
                pool.adjust(by: reassembler.heldBytes - before)
                if let message { events.append(.message(connectionID, channel: Int(channel), message)) }
            } catch {
                return error
            }
        }
        return nil
    }

    /// An ack-only packet when 16 packets have come since this side last sent: the ack field
    /// reaches 32 back, so acks must not fall further behind a burst than that, or the sender
    /// would count packets that arrived as lost. Call after each `receive`.
    func ackIfBehind(nowNs: Int64, out: inout [OutgoingDatagram]) {
        guard unackedReceived >= 16, !isPending else { return }
        out.append(OutgoingDatagram(bytes: emptyPacket(nowNs: nowNs), to: address))
        stats.acksSent += 1
    }

    private func processAck(_ ack: UInt32, bits: UInt32, nowNs: Int64) {
        let newestCarried = sent[ack]?.carriedAck
        var acked: [UInt32] = [ack]
        var remaining = bits
        while remaining != 0 {
            let bit = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            acked.append(ack &- 1 &- UInt32(bit))
        }
        for sequence in acked {
            guard let packet = sent.removeValue(forKey: sequence) else { continue }
            if packet.ackEliciting {
                stats.packetsAcked += 1
                recentLoss -= recentLoss / 16
                // The RTT from the newest packet acked only (as QUIC): an older one in the bits
                // may have waited for the ack that the newest sent at once.
                if sequence == ack { addRTTSample(nowNs - packet.sentNs) }
            }
            if !packet.reliable.isEmpty {
                congestion.acknowledged(inFlight: reliableInFlight)
                reliableInFlight -= 1
            }
            for (channel, message) in packet.reliable { channels[channel].sender.acknowledge(message) }
        }
        if largestAcked.map({ sequenceDistance(from: $0, to: ack) > 0 }) ?? true {
            largestAcked = ack
            if let newestCarried, sequenceDistance(from: ackSeenByPeer, to: newestCarried) > 0 { ackSeenByPeer = newestCarried }
        }
        // Selective-ack evidence: a packet three or more behind the newest ack and not in its
        // bits did not arrive (or is late); one beyond the 32 bits can never be acknowledged.
        // And, as RFC 9002 §6.1.2's time threshold, one behind it that has been out for 9/8 of
        // an RTT: a 60 Hz stream sends 3 more packets only 50 ms later, so the count alone would
        // hold a lost message (and, on an ordered channel, all after it) that much longer.
        let lossDelay = lossDelayNs
        for (sequence, packet) in sent {
            let behind = sequenceDistance(from: sequence, to: ack)
            if behind >= 3 || (behind >= 1 && isLateEnough(packet, nowNs: nowNs, lossDelay: lossDelay)) {
                declareLost(sequence, fast: true)
            }
        }
        releaseSentIfEmpty()
    }

    /// Gives back the storage of `sent` once nothing is in flight on a session that is idle on
    /// this side (its last ack-eliciting packet was a ping): the ping is acked within the RTT
    /// and the next goes half a second later, so 1,000 idle peers would hold 128 bytes each of
    /// empty table. A stream keeps it: on a LAN each packet is acked before the next goes, and
    /// the table would be freed and made again per packet.
    private func releaseSentIfEmpty() {
        if lastElicitingWasPing, sent.isEmpty { sent = [:] }
    }

    /// The time threshold's test: an ack-eliciting packet out for `lossDelay` (a packet of acks
    /// alone is judged only by the packet threshold, as before; the peer acks it by chance).
    private func isLateEnough(_ packet: SentPacket, nowNs: Int64, lossDelay: Int64) -> Bool {
        packet.ackEliciting && nowNs - packet.sentNs >= lossDelay
    }

    /// RFC 9002's time threshold, 9/8 of the larger of the smoothed and the latest RTT, but not
    /// under SRTT + 4 RTTVAR: on a jittery link a packet 9/8 of an RTT out is often only late
    /// (40 ms RTT with ±8 ms each way counted 14% lost of 10% by 9/8 alone). At least 1 ms;
    /// `.max` before any sample (the packet threshold and the RTO alone, then).
    private var lossDelayNs: Int64 {
        guard let srtt = srttNs else { return .max }
        return max(max(srtt, latestRTTNs ?? srtt) * 9 / 8, srtt + 4 * rttVarNs, 1_000_000)
    }

    private func detectTimeouts(nowNs: Int64) {
        let lossDelay = lossDelayNs
        for (sequence, packet) in sent {
            if nowNs - packet.sentNs >= rtoNs {
                declareLost(sequence, fast: false)
            } else if let largestAcked, sequenceDistance(from: sequence, to: largestAcked) >= 1,
                isLateEnough(packet, nowNs: nowNs, lossDelay: lossDelay)
            {
                declareLost(sequence, fast: true)
            }
        }
        releaseSentIfEmpty()
    }

    private func declareLost(_ sequence: UInt32, fast: Bool) {
        guard let packet = sent.removeValue(forKey: sequence) else { return }
        // A packet of acks alone elicits no ack of its own: past the RTO it is forgotten, not
        // counted lost (an idle peer has nothing to ack it with).
        guard fast || packet.ackEliciting else { return }
        stats.packetsLost += 1
        recentLoss += (1 - recentLoss) / 16
        guard !packet.reliable.isEmpty else { return }
        if fast { stats.fastRetransmits += 1 }
        reliableInFlight -= 1
        // Once per window of loss (a burst is one event); halved only if it looks like congestion.
        congestion.lost(sequence: sequence, nextSequence: nextSequence, recentLoss: recentLoss)
        for (channel, message) in packet.reliable where channels[channel].sender.pending[message] != nil {
            channels[channel].sender.requeue(message)
            stats.messagesResent += 1
        }
    }

    /// RFC 6298: SRTT and RTTVAR with gains 1/8 and 1/4, RTO = SRTT + 4 RTTVAR (+ the ack delay)
    /// within the bounds.
    private func addRTTSample(_ sampleNs: Int64) {
        let sample = max(sampleNs, 0)
        // Jitter as RFC 3550's interarrival jitter, on RTT samples: the mean difference between
        // consecutive samples, gain 1/16 (RTTVAR below is the deviation from the mean instead).
        if let latest = latestRTTNs { jitterNs += (abs(sample - latest) - jitterNs) / 16 }
        latestRTTNs = sample
        congestion.addRTTSample(sample)
        minRTTNs = min(minRTTNs ?? sample, sample)
        if let srtt = srttNs {
            rttVarNs = (3 * rttVarNs + abs(srtt - sample)) / 4
            srttNs = (7 * srtt + sample) / 8
        } else {
            srttNs = sample
            rttVarNs = sample / 2
        }
        // Plus the peer's ack delay (as QUIC's PTO): a packet at the end of a burst is acked
        // only after it, and counting that wait as loss collapses the window on a clean link.
        let estimate = (srttNs ?? sample) + max(4 * rttVarNs, 1_000_000) + config.ackDelayNs
        rtoNs = min(max(estimate, config.minRTONs), config.maxRTONs)
    }
}
