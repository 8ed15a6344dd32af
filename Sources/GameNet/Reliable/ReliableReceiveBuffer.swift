/// The receiving side's ring: messages received but not yet taken by `receive()`, then a gap
/// or more, then messages that arrived early. Bounded by its capacity (the receive window),
/// counted from the oldest untaken message, so a slow reader bounds memory, not the sender.
/// Pure bookkeeping: no I/O.
struct ReliableReceiveBuffer {
    enum Entry {
        case message([UInt8])
        case fin
    }

    enum Outcome: Equatable {
        /// It was the next expected packet; `expected` moved forward.
        case inOrder
        /// Arrived ahead of a missing one; held.
        case buffered
        case duplicate
        /// Too far ahead for the buffer: dropped without an ack (the peer resends it).
        case beyondWindow
    }

    private var slots: [Entry?]
    private var head = 0
    /// The oldest message not yet taken.
    private(set) var firstUntaken: UInt32 = 0
    /// The next sequence number not yet received: every one before it has arrived.
    private(set) var expected: UInt32 = 0
    /// The peer's close has arrived in order (every message before it is here).
    private(set) var finReached = false
    /// Entries held (untaken in-order ones and early ones).
    private(set) var held = 0
    private(set) var bufferedBytes = 0

    init(capacity: Int) { slots = Array(repeating: nil, count: capacity) }

    private func index(offset: Int) -> Int { (head + offset) % slots.count }

    /// Takes in a data or fin packet.
    mutating func accept(_ sequence: UInt32, _ entry: Entry) -> Outcome {
        if sequenceDistance(from: expected, to: sequence) < 0 { return .duplicate }
        // Nothing can follow the close: such a packet comes from a confused or forged peer.
        if finReached { return .duplicate }
        let offset = sequenceDistance(from: firstUntaken, to: sequence)
        guard offset < slots.count else { return .beyondWindow }
        let i = index(offset: offset)
        guard slots[i] == nil else { return .duplicate }
        slots[i] = entry
        held += 1
        if case .message(let bytes) = entry { bufferedBytes += bytes.count }
        guard sequence == expected else { return .buffered }
        while sequenceDistance(from: firstUntaken, to: expected) < slots.count,
            let next = slots[index(offset: sequenceDistance(from: firstUntaken, to: expected))]
        {
            expected &+= 1
            if case .fin = next {
                finReached = true
                break
            }
        }
        return .inOrder
    }

    /// Bit i set: sequence `expected + 1 + i` is held.
    var ackBits: UInt32 {
        var bits: UInt32 = 0
        for bit in 0..<32 {
            let offset = sequenceDistance(from: firstUntaken, to: expected &+ 1 &+ UInt32(bit))
            guard offset < slots.count else { break }
            if slots[index(offset: offset)] != nil { bits |= 1 << UInt32(bit) }
        }
        return bits
    }

    /// The next message in order, removed; `.fin` (left in place, so it keeps answering) once
    /// every message before the peer's close has been taken; nil while the next one is missing.
    mutating func take() -> Entry? {
        guard firstUntaken != expected, let entry = slots[head] else { return nil }
        if case .fin = entry { return .fin }
        if case .message(let bytes) = entry { bufferedBytes -= bytes.count }
        slots[head] = nil
        head = (head + 1) % slots.count
        firstUntaken &+= 1
        held -= 1
        return entry
    }

    /// Whether `take()` would return something.
    var hasDeliverable: Bool { firstUntaken != expected }

    /// Throws away every message that has arrived in order (this side closed: nobody will read
    /// them, and holding them would stop the peer's window).
    mutating func discardInOrder() {
        while case .message = take() {}
    }

    mutating func removeAll() {
        slots = [nil]
        head = 0
        firstUntaken = expected
        held = 0
        bufferedBytes = 0
    }
}
