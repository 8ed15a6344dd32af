import NetCore

/// A small reliable, ordered message channel over UDP for game messages: every message sent
/// arrives exactly once, intact and in order, or the channel fails with a clear error.
///
/// Each message gets a sequence number. Every packet carries the receiver's cumulative ack and
/// a bitfield of the 32 packets after the first hole (selective acks), so one lost ack costs
/// nothing. Unacknowledged messages are resent on a libev timer after a timeout estimated from
/// the round-trip time (smoothed RTT + 4 × variance, between `minRTO` and `maxRTO`), backing off
/// exponentially per packet. The receiver suppresses duplicates and holds early messages in a
/// bounded reorder buffer; `send` parks while `sendWindow` messages are in flight.
///
/// No handshake: create both ends fresh (a restarted peer needs new channels on both sides).
/// The channel reads the socket itself (one internal reader tasklet), so nothing else may
/// receive on that socket; datagrams from other addresses are counted and ignored. Call
/// `close()` when done: until then the reader tasklet keeps the loop's `run()` going.
///
/// Thread rule: create it in a tasklet; use it from tasklets of that loop. `close()` is safe
/// from any thread.
public final class ReliableChannel: @unchecked Sendable {
    // @unchecked: every mutable field is touched only on `loop`'s thread (each entry point checks
    // `loop.isCurrent`, close() hops there); `senders`/`receivers` bring their own lock.

    /// The address the channel talks to.
    public let peer: SocketAddress
    /// The settings in force.
    public let options: ReliableChannelOptions
    let socket: UDPSocket
    let loop: Loop

    private enum State {
        case open
        /// close() was called: resending what is unacknowledged (and the close) until the linger ends.
        case closing(lingerDeadlineNs: Int64)
        case closed
        case failed(ReliableChannelError)
    }

    private var state = State.open
    private var sendWindow: ReliableSendWindow
    private var receiveBuffer: ReliableReceiveBuffer
    private var counters = ReliableChannelStats()
    private let senders = WaitList()
    private let receivers = WaitList()
    private let timer: OneShotTimer
    private var timerDeadlineNs: Int64?
    private var reader: TaskletHandle<Void>?
    private var lastHeardNs: Int64
    private var smoothedRTTNs: Int64?
    private var rttVarianceNs: Int64 = 0
    private var rtoNs: Int64
    private let minRTONs: Int64
    private let maxRTONs: Int64

    /// Creates a channel to `peer` over `socket` and starts reading the socket.
    /// - Parameters:
    ///   - socket: a bound UDP socket, used by this channel alone from now on (connected or not).
    ///   - peer: where messages go, and the only address they are accepted from.
    /// - Parameter options: windows, message size and timers (`ReliableChannelOptions`).
    /// - Throws: `LoopError.notOnLoopThread` outside a tasklet; `LoopError.taskletLimitReached` when the
    ///   loop has no room for the reader tasklet; `ReliableChannelError.invalidOptions`.
    public init(socket: UDPSocket, peer: SocketAddress, options: ReliableChannelOptions = ReliableChannelOptions()) throws {
        guard let loop = Loop.current else { throw LoopError.notOnLoopThread("ReliableChannel.init") }
        if let problem = options.problem { throw ReliableChannelError.invalidOptions(problem) }
        self.socket = socket
        self.peer = peer
        self.options = options
        self.loop = loop
        sendWindow = ReliableSendWindow(capacity: options.sendWindow + 1)
        receiveBuffer = ReliableReceiveBuffer(capacity: options.receiveWindow)
        timer = OneShotTimer(loop: loop)
        minRTONs = options.minRTO.nanosecondsClamped
        maxRTONs = options.maxRTO.nanosecondsClamped
        rtoNs = min(max(options.initialRTO.nanosecondsClamped, minRTONs), maxRTONs)
        lastHeardNs = MonotonicClock.nanoseconds()
        // The reader holds the channel strongly until close() or a failure cancels it.
        reader = try loop.trySpawn(name: "reliable-channel-reader \(peer)") { [self] in await readLoop() }
    }

    // MARK: - Public API

    /// Sends one message, parking while the send window is full.
    ///
    /// Returns once the message is handed to the socket (not once it is acknowledged); from then
    /// on the channel resends it until the peer has it. Call from a tasklet of the channel's loop.
    /// - Throws: `ReliableChannelError.messageTooLarge` (nothing is sent), `.closed`, `.peerClosed`,
    ///   `.peerUnresponsive`, `.socketFailed`; `CancellationError` if cancelled while parked
    ///   (the message is then not sent); `LoopError.notOnLoopThread` from another thread.
    nonisolated(nonsending) public func send(_ message: [UInt8]) async throws {
        guard loop.isCurrent else { throw LoopError.notOnLoopThread("ReliableChannel.send") }
        guard message.count <= options.maxMessageSize else {
            throw ReliableChannelError.messageTooLarge(size: message.count, limit: options.maxMessageSize)
        }
        while true {
            if let error = sendBlocker { throw error }
            if sendWindow.inFlight < options.sendWindow { break }
            _ = try await senders.wait(timeout: nil) { sendBlocker == nil && sendWindow.inFlight >= options.sendWindow }
        }
        let now = MonotonicClock.nanoseconds()
        let sequence = sendWindow.append(payload: message, isFin: false, nowNs: now)
        counters.sent += 1
        counters.sendWindowHighWater = max(counters.sendWindowHighWater, sendWindow.inFlight)
        noteBufferedBytes()
        transmit(sequence, payload: message, isFin: false)
        armTimer(atNs: now + rtoNs)
    }

    /// Receives the next message in order, parking until it has arrived.
    /// Call from a tasklet of the channel's loop.
    /// - Throws: `ReliableChannelError.peerClosed` once every message the peer sent before closing
    ///   has been received; `.closed` after `close()`; `.peerUnresponsive`, `.socketFailed` when the
    ///   channel failed; `CancellationError` if cancelled while parked (no message is lost);
    ///   `LoopError.notOnLoopThread` from another thread.
    nonisolated(nonsending) public func receive() async throws -> [UInt8] {
        guard loop.isCurrent else { throw LoopError.notOnLoopThread("ReliableChannel.receive") }
        while true {
            switch state {
            case .closing, .closed: throw ReliableChannelError.closed
            case .failed(let error): throw error
            case .open: break
            }
            let wasFull = receiveBuffer.held >= options.receiveWindow
            switch receiveBuffer.take() {
            case .message(let bytes):
                counters.received += 1
                // Room was made in a full buffer: ack now, so that the peer's next resend of what
                // was dropped beyond the window is not wasted (it learns nothing new otherwise).
                if wasFull { sendAck() }
                return bytes
            case .fin: throw ReliableChannelError.peerClosed
            case nil:
                _ = try await receivers.wait(timeout: nil) { isOpen && !receiveBuffer.hasDeliverable }
            }
        }
    }

    /// Closes this side: parked and later `send`/`receive` calls throw `.closed`. Messages already
    /// sent keep being resent, followed by a close the peer receives (as `.peerClosed`) after them,
    /// until the peer acknowledges everything or `lingerTimeout` passes; then the reader stops.
    /// The socket stays open (it is the caller's). Idempotent; safe from any thread.
    public func close() {
        loop.execute { [self] in closeOnLoop() }
    }

    /// A snapshot of the counters. Read on the channel's loop thread.
    public var stats: ReliableChannelStats {
        var snapshot = counters
        snapshot.bufferedBytes = sendWindow.bufferedBytes + receiveBuffer.bufferedBytes
        snapshot.smoothedRTT = smoothedRTTNs.map { .nanoseconds($0) }
        snapshot.retransmissionTimeout = .nanoseconds(rtoNs)
        return snapshot
    }

    // MARK: - State

    /// True once the channel has stopped for good (closed and lingered, or failed). Loop thread.
    var isShutDown: Bool {
        switch state {
        case .closed, .failed: return true
        case .open, .closing: return false
        }
    }

    private var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    /// Why `send` cannot go on, or nil.
    private var sendBlocker: ReliableChannelError? {
        switch state {
        case .closing, .closed: return .closed
        case .failed(let error): return error
        case .open: return receiveBuffer.finReached ? .peerClosed : nil
        }
    }

    private func closeOnLoop() {
        guard isOpen else { return }
        // Even after the peer's close this side lingers: the peer may not have our ack of its
        // last messages yet and resends them, and only an answer lets it stop.
        let now = MonotonicClock.nanoseconds()
        state = .closing(lingerDeadlineNs: now + options.lingerTimeout.nanosecondsClamped)
        receiveBuffer.discardInOrder()
        // The window has one slot beyond sendWindow, so the close always fits.
        let sequence = sendWindow.append(payload: [], isFin: true, nowNs: now)
        transmit(sequence, payload: [], isFin: true)
        wakeEveryone()
        armTimer(atNs: now + rtoNs)
    }

    /// Stops for good: no more resends, the reader ends, the buffers are freed.
    private func shutDown(_ final: State) {
        switch state {
        case .closed, .failed: return
        case .open, .closing: break
        }
        state = final
        timer.stop()
        timerDeadlineNs = nil
        sendWindow.removeAll()
        receiveBuffer.removeAll()
        reader?.cancel()
        reader = nil
        wakeEveryone()
    }

    private func wakeEveryone() {
        for list in [senders, receivers] {
            list.lock.lock()
            let wakes = list.takeAllLocked()
            list.lock.unlock()
            for wake in wakes { wake(true) }
        }
    }

    private func wake(_ list: WaitList, count: Int) {
        guard count > 0 else { return }
        list.lock.lock()
        var wakes: [(Bool) -> Void] = []
        while wakes.count < count, let wake = list.takeFirstLocked() { wakes.append(wake) }
        list.lock.unlock()
        for wake in wakes { wake(true) }
    }

    private func noteBufferedBytes() {
        counters.bufferedBytesHighWater = max(
            counters.bufferedBytesHighWater, sendWindow.bufferedBytes + receiveBuffer.bufferedBytes)
    }

    // MARK: - Reading

    private func readLoop() async {
        let maxDatagram = ReliablePacket.dataHeaderSize + options.maxMessageSize + 1  // +1: see oversize
        while true {
            switch state {
            case .closed, .failed: return
            case .open, .closing: break
            }
            do {
                let (bytes, from) = try await socket.receive(maxBytes: maxDatagram)
                handle(bytes, from: from)
            } catch let error as NetError where error.kind == .connectionRefused {
                // A connected socket's ICMP port-unreachable: the peer is not up (yet). The
                // retransmissions and peerTimeout decide whether it ever comes.
                continue
            } catch let error as NetError {
                shutDown(.failed(.socketFailed(error)))
                return
            } catch {
                return  // cancelled by shutDown
            }
        }
    }

    /// Handles one datagram. Runs on the loop thread, synchronously.
    func handle(_ bytes: [UInt8], from: SocketAddress) {
        guard from == peer else {
            counters.foreignPackets += 1
            return
        }
        guard let packet = ReliablePacket.decode(bytes, maxPayload: options.maxMessageSize),
            sendWindow.isPlausible(ack: packet.ack)
        else {
            counters.malformedPackets += 1
            return
        }
        lastHeardNs = MonotonicClock.nanoseconds()
        applyAck(packet)
        guard packet.kind != .ack else { return }
        switch state {
        case .closed, .failed: return
        case .open, .closing: break
        }
        let wasFinReached = receiveBuffer.finReached
        let outcome = receiveBuffer.accept(packet.sequence, packet.kind == .fin ? .fin : .message(packet.payload))
        switch outcome {
        case .inOrder: break
        case .buffered: counters.outOfOrderBuffered += 1
        case .duplicate: counters.duplicatesDropped += 1
        case .beyondWindow: counters.beyondWindowDropped += 1
        }
        counters.receiveBufferHighWater = max(counters.receiveBufferHighWater, receiveBuffer.held)
        noteBufferedBytes()
        if !isOpen { receiveBuffer.discardInOrder() }
        // Always ack, a duplicate too: it means our earlier ack was lost.
        sendAck()
        if receiveBuffer.finReached && !wasFinReached {
            wakeEveryone()  // parked senders get .peerClosed; receivers drain, then get it too
        } else if outcome == .inOrder {
            wake(receivers, count: Int.max)  // a filled hole can make several messages deliverable
        }
    }

    private func applyAck(_ packet: ReliablePacket) {
        let outcome = sendWindow.applyAck(packet.ack, bits: packet.ackBits, nowNs: MonotonicClock.nanoseconds())
        counters.acked += outcome.messagesAcked
        for sample in outcome.rttSamplesNs { addRTTSample(sample) }
        // Only an empty window ends the linger: the close may be selectively acked while an
        // earlier message is still missing, and that one must still be resent.
        if case .closing = state, sendWindow.isEmpty {
            shutDown(.closed)
            return
        }
        if isOpen, outcome.messagesAcked > 0 || outcome.finAcked {
            wake(senders, count: options.sendWindow - sendWindow.inFlight)
        }
    }

    /// Jacobson/Karels (RFC 6298) with the configured floor and cap.
    private func addRTTSample(_ sampleNs: Int64) {
        let sample = max(sampleNs, 0)
        if let srtt = smoothedRTTNs {
            rttVarianceNs = (3 * rttVarianceNs + abs(srtt - sample)) / 4
            smoothedRTTNs = (7 * srtt + sample) / 8
        } else {
            smoothedRTTNs = sample
            rttVarianceNs = sample / 2
        }
        rtoNs = min(max((smoothedRTTNs ?? sample) + 4 * rttVarianceNs, minRTONs), maxRTONs)
    }

    // MARK: - Writing

    private func transmit(_ sequence: UInt32, payload: [UInt8], isFin: Bool) {
        let packet = ReliablePacket(
            kind: isFin ? .fin : .data, sequence: sequence, ack: receiveBuffer.expected,
            ackBits: receiveBuffer.ackBits, payload: payload)
        write(packet.encoded())
    }

    private func sendAck() {
        let packet = ReliablePacket(kind: .ack, sequence: 0, ack: receiveBuffer.expected, ackBits: receiveBuffer.ackBits)
        if write(packet.encoded()) { counters.acksSent += 1 }
    }

    /// Sends without parking (timer callbacks cannot park): a full socket buffer drops the
    /// datagram, which the retransmission timer (or the next ack) makes up for.
    @discardableResult
    private func write(_ datagram: [UInt8]) -> Bool {
        do {
            if try socket.sendNow(datagram, to: peer) { return true }
            counters.sendBufferFull += 1
        } catch let error as NetError where error.kind == .connectionRefused {
            // The peer is not up (yet): as for a lost datagram.
        } catch let error as NetError {
            shutDown(.failed(.socketFailed(error)))
        } catch {
            shutDown(.failed(.socketFailed(NetError(kind: .other, errno: 0, operation: "send datagram", context: "\(error)"))))
        }
        return false
    }

    // MARK: - Timer

    /// Makes the timer fire no later than `deadlineNs`.
    private func armTimer(atNs deadlineNs: Int64) {
        if let current = timerDeadlineNs, current <= deadlineNs { return }
        timerDeadlineNs = deadlineNs
        // OneShotTimer must be stopped before it is started again (libev forbids re-initialising
        // an active watcher).
        timer.stop()
        timer.start(after: .nanoseconds(max(0, deadlineNs - MonotonicClock.nanoseconds()))) { [self] in timerFired() }
    }

    private func timerFired() {
        timerDeadlineNs = nil
        let now = MonotonicClock.nanoseconds()
        if case .closing(let lingerDeadline) = state, now >= lingerDeadline {
            shutDown(.closed)
            return
        }
        switch state {
        case .closed, .failed: return
        case .open, .closing: break
        }
        guard !sendWindow.isEmpty else { return }
        let silence = now - lastHeardNs
        if silence >= options.peerTimeout.nanosecondsClamped {
            shutDown(.failed(.peerUnresponsive(silentFor: .nanoseconds(silence))))
            return
        }
        for (sequence, payload, isFin) in sendWindow.takeDue(nowNs: now, rtoNs: rtoNs, maxRTONs: maxRTONs) {
            counters.resent += 1
            transmit(sequence, payload: payload, isFin: isFin)
            if case .failed = state { return }
        }
        var next = sendWindow.earliestDeadline(rtoNs: rtoNs, maxRTONs: maxRTONs) ?? (now + maxRTONs)
        next = min(next, lastHeardNs + options.peerTimeout.nanosecondsClamped)
        if case .closing(let lingerDeadline) = state { next = min(next, lingerDeadline) }
        armTimer(atNs: max(next, now + 1_000_000))  // at least 1 ms apart: a burst, not a spin
    }
}
