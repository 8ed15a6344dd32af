// libFuzzer target for GameNet's Reassembler (Sources/GameNet/Fragments/Reassembler.swift,
// compiled alone). The input's first 3 bytes pick the fragment size, the most fragments and the
// budget; then every 6 bytes are one fragment: channel, sequence, index, count, last length and
// flags (bit 0: ordered channel; bit 1: a host pool with little room). A fragment's bytes are a
// function of its message and index, so a completed message proves it was joined from its own
// fragments in order. Invariants: never a crash; the charged bytes stay within the budget and do
// not move when a fragment is refused; a completed message has the size its count and fragment size
// allow; freeing everything leaves nothing charged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReassembly(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 3 else { return 0 }
    let fragmentSize = 1 + Int(bytes[0] % 16)
    let maxFragments = 2 + Int(bytes[1] % 20)
    let budget = 64 + Int(bytes[2]) * 8
    var reassembler = Reassembler(fragmentSize: fragmentSize, maxFragments: maxFragments, budget: budget)
    func fill(_ channel: UInt8, _ start: UInt32, _ index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: Int(channel) &* 31 &+ Int(start) &* 7 &+ index)
    }
    var at = 3
    while at + 6 <= bytes.count {
        let channel = bytes[at] % 3
        let sequence = UInt32(bytes[at + 1])
        let index = UInt16(bytes[at + 2] % 24)
        let count = UInt16(bytes[at + 3] % 24)
        let lastLength = Int(bytes[at + 4] % 20)
        let flags = bytes[at + 5]
        at += 6
        let isLast = count > 0 && index == count - 1
        let length = isLast ? lastLength : (flags & 4 == 0 ? fragmentSize : lastLength)
        let start = sequence &- UInt32(index)
        let payload = [UInt8](repeating: fill(channel, start, Int(index)), count: length)
        let before = reassembler.heldBytes
        do {
            let message = try reassembler.add(
                channel: channel, sequence: sequence, index: index, count: count, payload: payload,
                requireStarted: flags & 1 != 0, hostRoom: flags & 2 != 0 ? 200 : .max)
            if let message {
                let n = Int(count)
                // The completing fragment need not be the last, so only the last's bounds are known.
                guard ((n - 1) * fragmentSize + 1...n * fragmentSize).contains(message.count) else {
                    fatalError("a message of \(message.count) bytes from \(n) fragments of \(fragmentSize)")
                }
                for i in 0..<n {
                    let piece = message[(i * fragmentSize)..<min(message.count, (i + 1) * fragmentSize)]
                    guard piece.allSatisfy({ $0 == fill(channel, start, i) }) else { fatalError("fragment \(i) is not its own") }
                }
            }
        } catch {
            guard reassembler.heldBytes == before else { fatalError("a refused fragment changed the charge: \(error)") }
        }
        guard reassembler.heldBytes >= 0, reassembler.heldBytes <= budget else {
            fatalError("charged \(reassembler.heldBytes) of a \(budget) budget")
        }
        guard reassembler.heldBytes > 0 || reassembler.partialCount == 0 else { fatalError("partials held for free") }
    }
    reassembler.removeAll()
    guard reassembler.heldBytes == 0, reassembler.partialCount == 0 else { fatalError("removeAll left something") }
    return 0
}
