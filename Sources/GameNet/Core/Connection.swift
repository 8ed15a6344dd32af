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
    let config: GameNetConfig
    /// Host side: accepted but not yet confirmed by a packet with the token.
    var isPending: Bool
    let createdNs: Int64
    /// The client's id from the handshake (the host answers a repeated response with the same accept).
    let clientID: UInt64
    let initialSequence: UInt32

    private(set) var stats = ConnectionStats()
    private var nextSequence: UInt32
    private var senders: [ChannelSender]
    private var receivers: [ChannelReceiver]
    /// Channel numbers by descending priority (stable: lower number first on ties).
    private let sendOrder: [Int]
    /// Partial fragmented messages of the peer, charged to `pool` too (the host's shared budget).
    private var reassembler: Reassembler
    private let pool: ReassemblyPool

    private struct SentPacket {
        var sentNs: Int64
        var reliable: [(channel: Int, sequence: UInt32)]
    }
    /// Packets sent and neither acknowledged nor judged lost.
    private var sent: [UInt32: SentPacket] = [:]
    private var reliableInFlight = 0

    /// The newest packet received, and which of the 32 before it arrived.
    private var latestReceived: UInt32
    private var receivedBits: UInt32 = 0
    private var ackDueNs: Int64?
    /// Packets received since this side last sent one (which carried the acks).
    private var unackedReceived = 0
    private var lastSentNs: Int64
    private(set) var lastReceivedNs: Int64
    private var srttNs: Int64?
    private var rttVarNs: Int64 = 0
    private var rtoNs: Int64
    private var congestionWindow: Double
    private var recoveryUntilSequence: UInt32?

    init(
        id: UInt64, token: UInt64, address: SocketAddress, config: GameNetConfig, clientID: UInt64,
        initialSequence: UInt32, peerInitialSequence: UInt32, isPending: Bool, nowNs: Int64, pool: ReassemblyPool
    ) {
        self.id = id
        self.token = token
        self.address = address
        self.config = config
        self.clientID = clientID
        self.initialSequence = initialSequence
        self.isPending = isPending
        createdNs = nowNs
        nextSequence = initialSequence
        latestReceived = peerInitialSequence &- 1
        senders = config.channels.map {
            ChannelSender(kind: $0.kind, window: config.reliableWindow, maxQueued: config.maxQueuedMessages)
        }
        receivers = config.channels.map { ChannelReceiver(kind: $0.kind, window: config.reliableWindow) }
        sendOrder = config.channels.indices.sorted {
            config.channels[$0].priority != config.channels[$1].priority
                ? config.channels[$0].priority > config.channels[$1].priority : $0 < $1
        }
        reassembler = Reassembler(
            fragmentSize: config.fragmentPayloadSize, maxFragments: config.maxFragments, budget: config.maxReassemblyBytesPerPeer)
        self.pool = pool
        lastSentNs = nowNs
        lastReceivedNs = nowNs
        rtoNs = config.initialRTONs
        congestionWindow = Double(config.initialCongestionWindow)
    }

    var connectionID: ConnectionID { ConnectionID(rawValue: id) }

    var statsSnapshot: ConnectionStats {
        var s = stats
        s.smoothedRTTNs = srttNs
        s.rttVarianceNs = rttVarNs
        s.retransmissionTimeoutNs = rtoNs
        s.congestionWindow = Int(congestionWindow)
        s.reassemblyBytes = reassembler.heldBytes
        return s
    }

    // MARK: - Sending

    /// Queues a message whole, or on a reliable channel as fragments (all or none of them).
    func queue(_ message: [UInt8], channel: Int) throws(GameNetError) {
        guard senders.indices.contains(channel) else { throw .noSuchChannel(channel) }
        let whole = config.maxUnfragmentedPayload
        if message.count <= whole {
            guard senders[channel].room >= 1 else { throw .sendQueueFull(channel: channel) }
            senders[channel].enqueue(Piece(payload: message))
            return
        }
        let limit = senders[channel].kind.isReliable ? config.maxMessageSize : whole
        guard message.count <= limit else { throw .messageTooLarge(size: message.count, limit: limit) }
        let size = config.fragmentPayloadSize
        let count = (message.count + size - 1) / size  // at least 2: the message is over `size`
        guard senders[channel].room >= count else { throw .sendQueueFull(channel: channel) }
        for index in 0..<count {
            let bytes = Array(message[index * size..<min(message.count, (index + 1) * size)])
            // count <= maxFragments <= 65535, checked by `GameNetConfig.problem`.
            senders[channel].enqueue(Piece(payload: bytes, index: UInt16(index), count: UInt16(count)))
        }
    }

    /// Frees the peer's partial messages and gives their bytes back to the host's pool (the
    /// connection ended).
    func releaseReassembly() {
        pool.adjust(by: -reassembler.heldBytes)
        reassembler.removeAll()
    }

    /// Builds and appends the datagrams due now: queued messages coalesced up to the MTU (by
    /// channel priority, reliable ones within the congestion window), else a due ack or
    /// keep-alive alone. Also judges packets lost by the RTO and reports a timeout.
    /// - Returns: false when the connection timed out (the caller reports and removes it).
    func update(nowNs: Int64, out: inout [OutgoingDatagram]) -> Bool {
        if !isPending, nowNs - lastReceivedNs >= config.timeoutNs { return false }
        detectTimeouts(nowNs: nowNs)
        var sentAny = false
        while let datagram = buildPacket(nowNs: nowNs) {
            out.append(OutgoingDatagram(bytes: datagram, to: address))
            sentAny = true
        }
        let ackDue = ackDueNs.map { nowNs >= $0 } ?? false
        if !sentAny, !isPending, ackDue || nowNs - lastSentNs >= config.keepAliveNs {
            out.append(OutgoingDatagram(bytes: emptyPacket(nowNs: nowNs), to: address))
            stats.keepAlivesSent += 1
        }
        return true
    }

    /// The next time `update` has something to do.
    func nextWakeNs() -> Int64 {
        var wake = isPending ? createdNs + config.handshakeTimeoutNs : lastReceivedNs + config.timeoutNs
        if !isPending { wake = min(wake, lastSentNs + config.keepAliveNs) }
        if let ackDueNs { wake = min(wake, ackDueNs) }
        for packet in sent.values where !packet.reliable.isEmpty { wake = min(wake, packet.sentNs + rtoNs) }
        return wake
    }

    /// Packets sent as the last words of a closing connection: the disconnect, three times
    /// (no ack is awaited; a peer that misses all three times out).
    func closingDatagrams(nowNs: Int64) -> [OutgoingDatagram] {
        (0..<3).map { _ in
            OutgoingDatagram(bytes: makePacket(frames: [.disconnect(reason: 0)], nowNs: nowNs), to: address)
        }
    }

    /// Makes the next `update` send a packet even if nothing is due (the client's confirmation).
    func forceKeepAlive() { lastSentNs = .min / 2 }

    private func emptyPacket(nowNs: Int64) -> [UInt8] { makePacket(frames: [], nowNs: nowNs) }

    private func makePacket(frames: [Frame], nowNs: Int64, reliable: [(channel: Int, sequence: UInt32)] = []) -> [UInt8] {
        let header = Packet.DataHeader(
            connectionID: id, token: token, sequence: nextSequence, ack: latestReceived, ackBits: receivedBits)
        let bytes = Packet.data(header, frames: frames).encoded()
        sent[nextSequence] = SentPacket(sentNs: nowNs, reliable: reliable)
        if !reliable.isEmpty { reliableInFlight += 1 }
        nextSequence &+= 1
        lastSentNs = nowNs
        ackDueNs = nil  // every packet carries the acks
        unackedReceived = 0
        stats.packetsSent += 1
        stats.bytesSent += bytes.count
        return bytes
    }

    private func buildPacket(nowNs: Int64) -> [UInt8]? {
        guard !isPending else { return nil }
        var budget = config.mtu - Packet.dataHeaderSize
        var frames: [Frame] = []
        var reliable: [(channel: Int, sequence: UInt32)] = []
        let windowOpen = Double(reliableInFlight) < congestionWindow
        for channel in sendOrder {
            if senders[channel].kind.isReliable {
                guard windowOpen else { continue }
                while let (sequence, piece) = senders[channel].peekSendable() {
                    let frame = piece.frame(channel: UInt8(channel), sequence: sequence)
                    guard frame.encodedSize <= budget else { break }
                    senders[channel].dropFirstSendable()
                    frames.append(frame)
                    reliable.append((channel, sequence))
                    budget -= frame.encodedSize
                }
            } else {
                var messages = senders[channel].takeUnreliable()
                var taken = 0
                while taken < messages.count, Frame.messageOverhead + messages[taken].payload.count <= budget {
                    let m = messages[taken]
                    frames.append(.message(channel: UInt8(channel), sequence: m.sequence, payload: m.payload))
                    budget -= Frame.messageOverhead + m.payload.count
                    taken += 1
                }
                messages.removeFirst(taken)
                senders[channel].returnUnreliable(messages)
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

    /// Takes one data packet whose connection id, token and source address the owner has
    /// checked. Validates all of it before changing anything.
    func receive(_ header: Packet.DataHeader, frames: [Frame], size: Int, nowNs: Int64, events: inout [GameNetEvent]) -> Outcome {
        // An honest ack names a packet this side sent: not beyond the newest.
        let ackDistance = sequenceDistance(from: header.ack, to: nextSequence)
        guard ackDistance >= 1, ackDistance < 1 << 30 else {
            stats.implausiblePackets += 1
            return .dropped
        }
        for frame in frames {
            switch frame {
            case .message(let channel, let sequence, _), .fragment(let channel, let sequence, _, _, _):
                guard receivers.indices.contains(Int(channel)), receivers[Int(channel)].isPlausible(sequence) else {
                    stats.implausiblePackets += 1
                    return .dropped
                }
                // Only reliable channels fragment, and a fragment must be well formed on its own.
                if case .fragment(_, _, let index, let count, let payload) = frame,
                    !receivers[Int(channel)].kind.isReliable
                        || !reassembler.isWellFormed(index: index, count: count, size: payload.count)
                {
                    stats.implausiblePackets += 1
                    return .dropped
                }
            case .disconnect: break
            }
        }
        let distance = sequenceDistance(from: latestReceived, to: header.sequence)
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
        var carriesData = false
        for frame in frames {
            switch frame {
            case .message(let channel, let sequence, let payload):
                carriesData = true
                let ready = receivers[Int(channel)].accept(sequence, Piece(payload: payload))
                if let error = deliver(ready, channel: channel, events: &events) { return .violation(error) }
            case .fragment(let channel, let sequence, let index, let count, let payload):
                carriesData = true
                let ready = receivers[Int(channel)].accept(sequence, Piece(payload: payload, index: index, count: count))
                if let error = deliver(ready, channel: channel, events: &events) { return .violation(error) }
            case .disconnect: outcome = .peerClosed
            }
        }
        if carriesData, ackDueNs == nil { ackDueNs = nowNs + config.ackDelayNs }
        unackedReceived += 1
        return outcome
    }

    /// Reports the deliverable pieces of one channel: whole messages at once, fragments through
    /// the reassembler (a message when its last fragment arrives).
    /// - Returns: the violation that ends the connection, or nil.
    private func deliver(_ ready: [(sequence: UInt32, piece: Piece)], channel: UInt8, events: inout [GameNetEvent]) -> ReassemblyError? {
        let ordered = receivers[Int(channel)].kind == .reliableOrdered
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
        stats.keepAlivesSent += 1
    }

    private func processAck(_ ack: UInt32, bits: UInt32, nowNs: Int64) {
        var acked: [UInt32] = [ack]
        var remaining = bits
        while remaining != 0 {
            let bit = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            acked.append(ack &- 1 &- UInt32(bit))
        }
        for sequence in acked {
            guard let packet = sent.removeValue(forKey: sequence) else { continue }
            addRTTSample(nowNs - packet.sentNs)
            if !packet.reliable.isEmpty {
                reliableInFlight -= 1
                // Additive increase: one packet per window's worth of acks (TCP Reno's avoidance).
                congestionWindow += 1 / max(congestionWindow, 1)
            }
            for (channel, message) in packet.reliable { senders[channel].acknowledge(message) }
        }
        // Selective-ack evidence: a packet three or more behind the newest ack and not in its
        // bits did not arrive (or is late); one beyond the 32 bits can never be acknowledged.
        for (sequence, _) in sent where sequenceDistance(from: sequence, to: ack) >= 3 {
            declareLost(sequence, fast: true)
        }
    }

    private func detectTimeouts(nowNs: Int64) {
        for (sequence, packet) in sent where nowNs - packet.sentNs >= rtoNs {
            declareLost(sequence, fast: false)
        }
    }

    private func declareLost(_ sequence: UInt32, fast: Bool) {
        guard let packet = sent.removeValue(forKey: sequence) else { return }
        // An empty packet elicits no ack of its own: past the RTO it is forgotten, not counted
        // lost (an idle peer has nothing to ack it with).
        guard fast || !packet.reliable.isEmpty else { return }
        stats.packetsLost += 1
        guard !packet.reliable.isEmpty else { return }
        if fast { stats.fastRetransmits += 1 }
        reliableInFlight -= 1
        // Multiplicative decrease, once per window of loss (a burst is one congestion event).
        if recoveryUntilSequence.map({ sequenceDistance(from: $0, to: sequence) >= 0 }) ?? true {
            congestionWindow = max(2, congestionWindow / 2)
            recoveryUntilSequence = nextSequence
        }
        for (channel, message) in packet.reliable where senders[channel].pending[message] != nil {
            senders[channel].requeue(message)
            stats.messagesResent += 1
        }
    }

    /// RFC 6298: SRTT and RTTVAR with gains 1/8 and 1/4, RTO = SRTT + 4 RTTVAR (+ the ack delay)
    /// within the bounds.
    private func addRTTSample(_ sampleNs: Int64) {
        let sample = max(sampleNs, 0)
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
