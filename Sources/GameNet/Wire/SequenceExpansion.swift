/// The value nearest `reference` whose low `bits` bits are `truncated`: QUIC's packet number
/// decoding (RFC 9000 §A.3) in wrapping arithmetic, as GameNet's sequences wrap. The result is
/// within [reference - 2^(bits-1), reference + 2^(bits-1)); `bits` is 1...64 (16 or 32 here).
/// A connection expands a `data` packet's 16-bit sequence near the newest it received and its
/// ack near the newest it had acked; a `SessionCipher` its 32-bit sequence into a 64-bit counter.
/// Pure; any thread; a few instructions.
@inline(__always) func expandSequence(_ truncated: UInt64, bits: Int, near reference: UInt64) -> UInt64 {
    let shift = UInt64(64 - bits)
    // The distance from the reference to the truncated value, as a signed `bits`-bit number.
    let distance = Int64(bitPattern: (truncated &- reference) << shift) >> Int64(shift)
    return reference &+ UInt64(bitPattern: distance)
}

/// `expandSequence` for 32-bit sequences, which wrap at 2^32.
@inline(__always) func expandSequence(_ truncated: UInt32, bits: Int, near reference: UInt32) -> UInt32 {
    UInt32(truncatingIfNeeded: expandSequence(UInt64(truncated), bits: bits, near: UInt64(reference)))
}
