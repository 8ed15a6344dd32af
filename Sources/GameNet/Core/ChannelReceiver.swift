/// One channel's incoming side: duplicate suppression, ordering and "newest wins", bounded by
/// the reliable window (an honest sender never sends beyond it). Pure bookkeeping.
struct ChannelReceiver {
    let kind: ChannelKind
    let window: Int
    /// Reliable: every sequence before it has been delivered (ordered) or received (unordered).
    private(set) var nextExpected: UInt32 = 0
    /// Ordered: messages that arrived early. Unordered: sequences received ahead (payload empty).
    private var early: [UInt32: Piece] = [:]
    /// Sequenced: the newest delivered.
    private var newest: UInt32?
    private(set) var heldBytes = 0

    init(kind: ChannelKind, window: Int) {
        self.kind = kind
        self.window = window
    }

    /// A frame's 16-bit channel sequence as the 32-bit one it stands for. Reliable: near the
    /// next expected, which is exact (an honest sender's is within the window of it either way,
    /// and the window is at most 2^15). Sequenced: near the newest delivered, right unless 2^15
    /// messages in a row were lost (ENet's 16-bit sequences share the bound). Unreliable: as it
    /// is (nothing reads it).
    func expand(_ wire: UInt32) -> UInt32 {
        switch kind {
        case .reliableOrdered, .reliableUnordered: expandSequence(wire, bits: 16, near: nextExpected)
        case .unreliableSequenced: expandSequence(wire, bits: 16, near: newest ?? 0)
        case .unreliable: wire
        }
    }

    /// Whether an honest peer could have sent this sequence: a reliable one within the window.
    func isPlausible(_ sequence: UInt32) -> Bool {
        guard kind.isReliable else { return true }
        return sequenceDistance(from: nextExpected, to: sequence) < window
    }

    /// Takes one piece (a message or a fragment); returns those that become deliverable, in
    /// order, with their sequences (a fragment's names its message).
    mutating func accept(_ sequence: UInt32, _ payload: Piece) -> [(sequence: UInt32, piece: Piece)] {
        switch kind {
        case .unreliable:
            return [(sequence, payload)]
        case .unreliableSequenced:
            if let newest, sequenceDistance(from: newest, to: sequence) <= 0 { return [] }
            newest = sequence
            return [(sequence, payload)]
        case .reliableUnordered:
            let distance = sequenceDistance(from: nextExpected, to: sequence)
            guard distance >= 0, early[sequence] == nil else { return [] }
            if distance > 0 {
                early[sequence] = Piece(payload: [])
            } else {
                nextExpected &+= 1
                while early.removeValue(forKey: nextExpected) != nil { nextExpected &+= 1 }
            }
            return [(sequence, payload)]
        case .reliableOrdered:
            let distance = sequenceDistance(from: nextExpected, to: sequence)
            guard distance >= 0, early[sequence] == nil else { return [] }
            if distance > 0 {
                early[sequence] = payload
                heldBytes += payload.payload.count
                return []
            }
            var out = [(sequence, payload)]
            nextExpected &+= 1
            while let next = early.removeValue(forKey: nextExpected) {
                heldBytes -= next.payload.count
                out.append((nextExpected, next))
                nextExpected &+= 1
            }
            return out
        }
    }
}
