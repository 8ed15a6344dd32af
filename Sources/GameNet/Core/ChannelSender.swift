/// One channel's outgoing side: message numbering, the unreliable queue of this pump, and the
/// reliable messages not yet acknowledged. Pure bookkeeping: no clock, no I/O.
struct ChannelSender {
    let kind: ChannelKind
    let window: Int
    let maxQueued: Int
    private(set) var nextSequence: UInt32 = 0
    /// Unreliable messages waiting for the next flush (sent once, then forgotten).
    private(set) var unreliable: [(sequence: UInt32, payload: [UInt8])] = []
    /// Reliable messages (or fragments of one) not yet acknowledged, by sequence.
    private(set) var pending: [UInt32: Piece] = [:]
    /// Reliable sequences to (re)transmit, oldest first.
    private var toSend: [UInt32] = []
    /// The oldest reliable sequence not acknowledged (all before it are).
    private(set) var oldestUnacked: UInt32 = 0
    private(set) var queuedBytes = 0

    init(kind: ChannelKind, window: Int, maxQueued: Int) {
        self.kind = kind
        self.window = window
        self.maxQueued = maxQueued
    }

    /// How many more pieces (messages, or fragments of a reliable one) the channel takes.
    var room: Int { maxQueued - (kind.isReliable ? pending.count : unreliable.count) }

    /// Queues one piece under the next sequence (a fragmented message takes one per fragment);
    /// unreliable channels take whole messages only.
    mutating func enqueue(_ piece: Piece) {
        let sequence = nextSequence
        nextSequence &+= 1
        queuedBytes += piece.payload.count
        if kind.isReliable {
            pending[sequence] = piece
            toSend.append(sequence)
        } else {
            unreliable.append((sequence, piece.payload))
        }
    }

    /// The next reliable message to transmit, if the receiver's window has room for it
    /// (sequences acknowledged while waiting for a resend are skipped and forgotten).
    mutating func peekSendable() -> (sequence: UInt32, piece: Piece)? {
        while let first = toSend.first {
            guard let piece = pending[first] else {
                toSend.removeFirst()
                continue
            }
            guard sequenceDistance(from: oldestUnacked, to: first) < window else { return nil }
            return (first, piece)
        }
        return nil
    }

    /// Whether the next flush has something to send on this channel: an unreliable message, or
    /// a reliable one within the receiver's window (what `peekSendable` would return).
    var hasSendable: Bool {
        if !kind.isReliable { return !unreliable.isEmpty }
        for sequence in toSend where pending[sequence] != nil {
            return sequenceDistance(from: oldestUnacked, to: sequence) < window
        }
        return false
    }

    /// Removes what `peekSendable` returned: it is in a packet now.
    mutating func dropFirstSendable() { toSend.removeFirst() }

    /// Puts a reliable message back at the front (its packet was lost, or did not fit).
    mutating func requeue(_ sequence: UInt32) {
        guard pending[sequence] != nil, !toSend.contains(sequence) else { return }
        // Oldest first, so the window's left edge moves as soon as possible.
        let at = toSend.firstIndex { sequenceDistance(from: sequence, to: $0) > 0 } ?? toSend.endIndex
        toSend.insert(sequence, at: at)
    }

    mutating func takeUnreliable() -> [(sequence: UInt32, payload: [UInt8])] {
        defer {
            for m in unreliable { queuedBytes -= m.payload.count }
            unreliable.removeAll(keepingCapacity: true)
        }
        return unreliable
    }

    /// Puts unsent unreliable messages back for the next flush (the datagram budget ran out).
    mutating func returnUnreliable(_ rest: [(sequence: UInt32, payload: [UInt8])]) {
        for m in rest { queuedBytes += m.payload.count }
        unreliable.insert(contentsOf: rest, at: 0)
    }

    mutating func acknowledge(_ sequence: UInt32) {
        guard let piece = pending.removeValue(forKey: sequence) else { return }
        queuedBytes -= piece.payload.count
        while pending[oldestUnacked] == nil, oldestUnacked != nextSequence { oldestUnacked &+= 1 }
    }
}
