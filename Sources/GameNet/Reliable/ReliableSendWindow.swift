/// The sending side's ring of messages in flight, from the oldest unacknowledged (`base`) to the
/// next sequence number to assign (`next`). Pure bookkeeping: no I/O, no clock of its own.
struct ReliableSendWindow {
    struct Slot {
        var payload: [UInt8]
        var isFin: Bool
        var lastSentNs: Int64
        var retransmits = 0
        /// Selectively acknowledged: arrived, but a packet before it has not.
        var acked = false
    }

    /// What an acknowledgement did.
    struct AckOutcome {
        var messagesAcked = 0
        var finAcked = false
        /// Round-trip samples from packets sent once (Karn: a resent packet's ack is ambiguous).
        var rttSamplesNs: [Int64] = []
    }

    private var slots: [Slot?]
    private var head = 0
    private(set) var base: UInt32 = 0
    private(set) var next: UInt32 = 0
    /// Payload bytes held (acked slots have released theirs).
    private(set) var bufferedBytes = 0

    /// - Parameter capacity: the send window plus one, so that the close always fits.
    init(capacity: Int) { slots = Array(repeating: nil, count: capacity) }

    /// Sequence numbers assigned and not yet cumulatively acknowledged.
    var inFlight: Int { sequenceDistance(from: base, to: next) }
    var isEmpty: Bool { base == next }

    private func index(of sequence: UInt32) -> Int { (head + sequenceDistance(from: base, to: sequence)) % slots.count }

    /// Stores a packet and returns its sequence number. The caller checks the window first.
    mutating func append(payload: [UInt8], isFin: Bool, nowNs: Int64) -> UInt32 {
        let sequence = next
        slots[index(of: sequence)] = Slot(payload: payload, isFin: isFin, lastSentNs: nowNs)
        next &+= 1
        bufferedBytes += payload.count
        return sequence
    }

    func slot(_ sequence: UInt32) -> Slot? {
        let offset = sequenceDistance(from: base, to: sequence)
        guard offset >= 0, offset < inFlight else { return nil }
        return slots[index(of: sequence)]
    }

    /// Whether `ack` can come from an honest peer: not beyond what was sent.
    func isPlausible(ack: UInt32) -> Bool { sequenceDistance(from: next, to: ack) <= 0 }

    /// Applies the peer's cumulative ack and selective-ack bits.
    mutating func applyAck(_ ack: UInt32, bits: UInt32, nowNs: Int64) -> AckOutcome {
        var outcome = AckOutcome()
        // An old ack (reordered) moves nothing cumulatively, but its bits are still true.
        while sequenceDistance(from: base, to: ack) > 0 {
            let i = head
            if let slot = slots[i] { markAcked(slot, into: &outcome, nowNs: nowNs) }
            slots[i] = nil
            head = (head + 1) % slots.count
            base &+= 1
        }
        var remaining = bits
        while remaining != 0 {
            let bit = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            let sequence = ack &+ 1 &+ UInt32(bit)
            let offset = sequenceDistance(from: base, to: sequence)
            guard offset >= 0, offset < inFlight else { continue }
            let i = index(of: sequence)
            guard let slot = slots[i], !slot.acked else { continue }
            markAcked(slot, into: &outcome, nowNs: nowNs)
            slots[i]?.acked = true
            slots[i]?.payload = []  // the peer has it: free the bytes now, not when the hole closes
        }
        return outcome
    }

    private mutating func markAcked(_ slot: Slot, into outcome: inout AckOutcome, nowNs: Int64) {
        guard !slot.acked else { return }
        if slot.isFin { outcome.finAcked = true } else { outcome.messagesAcked += 1 }
        if slot.retransmits == 0 { outcome.rttSamplesNs.append(nowNs - slot.lastSentNs) }
        bufferedBytes -= slot.payload.count
    }

    /// When the packet `slot` is due again: per-packet exponential back-off, capped.
    private static func deadline(of slot: Slot, rtoNs: Int64, maxRTONs: Int64) -> Int64 {
        let backedOff = rtoNs << Int64(min(slot.retransmits, 20))
        return slot.lastSentNs + min(backedOff, maxRTONs)
    }

    /// The earliest retransmission deadline, or nil when nothing awaits an ack.
    func earliestDeadline(rtoNs: Int64, maxRTONs: Int64) -> Int64? {
        var earliest: Int64?
        var offset = 0
        while offset < inFlight {
            if let slot = slots[(head + offset) % slots.count], !slot.acked {
                let due = Self.deadline(of: slot, rtoNs: rtoNs, maxRTONs: maxRTONs)
                if earliest.map({ due < $0 }) ?? true { earliest = due }
            }
            offset += 1
        }
        return earliest
    }

    /// Marks every packet due at `nowNs` as resent and returns them (sequence, payload, isFin).
    mutating func takeDue(nowNs: Int64, rtoNs: Int64, maxRTONs: Int64) -> [(UInt32, [UInt8], Bool)] {
        var due: [(UInt32, [UInt8], Bool)] = []
        var offset = 0
        while offset < inFlight {
            let i = (head + offset) % slots.count
            if let slot = slots[i], !slot.acked, Self.deadline(of: slot, rtoNs: rtoNs, maxRTONs: maxRTONs) <= nowNs {
                due.append((base &+ UInt32(offset), slot.payload, slot.isFin))
                slots[i]?.retransmits += 1
                slots[i]?.lastSentNs = nowNs
            }
            offset += 1
        }
        return due
    }

    /// Drops everything (the channel shut down).
    mutating func removeAll() {
        slots = []
        head = 0
        base = next
        bufferedBytes = 0
    }
}
