/// Why a peer's fragments cannot be reassembled. An honest peer never causes one: the connection
/// that sees it is closed (`DisconnectReason.protocolViolation`) and its partial messages freed.
public enum ReassemblyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A fragment's count is below 2, its index not below the count, or the count is over what
    /// the largest message (`maxMessageSize`) needs.
    case badCount(index: Int, count: Int)
    /// A fragment other than the last is not exactly the fragment size, or the last is larger.
    case badFragmentSize(index: Int, size: Int)
    /// A fragment's count differs from the count of earlier fragments of the same message.
    case countMismatch(expected: Int, got: Int)
    /// An ordered channel delivered a fragment after index 0 of a message never started.
    case missingStart
    /// Holding this fragment would take the peer over `maxReassemblyBytesPerPeer`.
    case peerBudgetExceeded(limit: Int)
    /// Holding this fragment would take the host over `maxReassemblyBytesPerHost`.
    case hostBudgetExceeded

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .badCount(let i, let c): return "fragment \(i) of \(c) is not a valid index and count"
        case .badFragmentSize(let i, let s): return "fragment \(i) has \(s) bytes, not the fragment size"
        case .countMismatch(let e, let g): return "a fragment says \(g) fragments where earlier ones said \(e)"
        case .missingStart: return "an ordered channel delivered a fragment of a message that never started"
        case .peerBudgetExceeded(let limit): return "the peer's partial messages would exceed \(limit) bytes"
        case .hostBudgetExceeded: return "the host's reassembly memory is exhausted"
        }
    }
}

/// Reassembles fragmented messages of one peer within a byte budget. Pure bookkeeping: no
/// clock, no I/O, no configuration beyond its limits, so the fuzzer can drive it alone.
///
/// A message of `count` fragments takes `count` consecutive channel sequences; fragment `index`
/// has sequence `start + index`, so a fragment names its message by `sequence - index`. Every
/// fragment but the last carries exactly `fragmentSize` bytes, which fixes each one's offset and
/// bounds the total, so no total-size or offset field can disagree with the rest.
///
/// `heldBytes` charges the payloads and the bookkeeping (a slot per fragment of each partial
/// message and a fixed cost per partial), so a peer sending one-byte last fragments of
/// many-fragment messages pays for the slot arrays it makes the host allocate.
/// Not thread-safe (a value; its connection confines it).
struct Reassembler {
    /// The bytes charged for a partial message beyond its fragments (dictionary entry, array headers).
    static let partialOverhead = 96
    /// The bytes charged per fragment slot of a partial message (an optional array reference),
    /// and per stored fragment beyond its payload (its array header).
    static let slotCost = MemoryLayout<[UInt8]?>.stride
    static let pieceOverhead = 32

    /// Which message a fragment belongs to: its channel and first sequence.
    struct Key: Hashable {
        var channel: UInt8
        var start: UInt32
    }

    private struct Partial {
        var pieces: [[UInt8]?]
        var received = 0
        var charged: Int
        var payloadBytes = 0
    }

    let fragmentSize: Int
    let maxFragments: Int
    let budget: Int
    /// Bytes charged for every partial message now held (never above `budget`).
    private(set) var heldBytes = 0
    private var partials: [Key: Partial] = [:]

    /// - Parameters: `fragmentSize`, the payload of every fragment but the last; `maxFragments`,
    ///   the most fragments a message may have; `budget`, the most bytes `heldBytes` may reach.
    init(fragmentSize: Int, maxFragments: Int, budget: Int) {
        self.fragmentSize = fragmentSize
        self.maxFragments = maxFragments
        self.budget = budget
    }

    var partialCount: Int { partials.count }

    /// What holding a whole message of `size` bytes costs at most (the budget needs at least this).
    static func cost(ofMessage size: Int, fragmentSize: Int) -> Int {
        let count = (size + fragmentSize - 1) / fragmentSize
        return partialOverhead + count * (slotCost + pieceOverhead) + size
    }

    /// Whether a fragment is well formed on its own (index, count, size); the connection drops a
    /// packet carrying one that is not before anything changes.
    func isWellFormed(index: UInt16, count: UInt16, size: Int) -> Bool {
        (try? check(index: Int(index), count: Int(count), size: size)) != nil
    }

    private func check(index: Int, count: Int, size: Int) throws(ReassemblyError) {
        guard count >= 2, index < count, count <= maxFragments else { throw .badCount(index: index, count: count) }
        let fits = index == count - 1 ? (1...fragmentSize).contains(size) : size == fragmentSize
        guard fits else { throw .badFragmentSize(index: index, size: size) }
    }

    /// Takes one fragment (each sequence once: the channel drops duplicates before this).
    /// - Parameters: `requireStarted`: an ordered channel delivers fragments in sequence, so one
    ///   after index 0 must find its message started. `hostRoom`: the bytes the host's shared
    ///   budget has left.
    /// - Returns: the whole message when this fragment completes it, else nil.
    /// - Throws: `ReassemblyError`; nothing changed then.
    /// Cost: O(1), plus O(message) to join the message it completes.
    mutating func add(
        channel: UInt8, sequence: UInt32, index: UInt16, count: UInt16, payload: [UInt8], requireStarted: Bool = false,
        hostRoom: Int = .max
    ) throws(ReassemblyError) -> [UInt8]? {
        let (i, n) = (Int(index), Int(count))
        try check(index: i, count: n, size: payload.count)
        let key = Key(channel: channel, start: sequence &- UInt32(index))
        var charge = payload.count + Self.pieceOverhead
        if let existing = partials[key] {
            guard existing.pieces.count == n else { throw .countMismatch(expected: existing.pieces.count, got: n) }
            if existing.pieces[i] != nil { return nil }  // the same sequence again: nothing new
        } else {
            if requireStarted, i != 0 { throw .missingStart }
            charge += Self.partialOverhead + n * Self.slotCost
        }
        guard heldBytes + charge <= budget else { throw .peerBudgetExceeded(limit: budget) }
        guard charge <= hostRoom else { throw .hostBudgetExceeded }
        var partial = partials.removeValue(forKey: key) ?? Partial(pieces: Array(repeating: nil, count: n), charged: 0)
        partial.pieces[i] = payload
        partial.received += 1
        partial.charged += charge
        partial.payloadBytes += payload.count
        heldBytes += charge
        guard partial.received == n else {
            partials[key] = partial
            return nil
        }
        heldBytes -= partial.charged
        var message: [UInt8] = []
        message.reserveCapacity(partial.payloadBytes)
        // Every slot is filled: `received` counts distinct indices below `n`.
        for piece in partial.pieces { message += piece ?? [] }
        return message
    }

    /// Frees every partial message (the connection ended).
    mutating func removeAll() {
        partials.removeAll()
        heldBytes = 0
    }
}
