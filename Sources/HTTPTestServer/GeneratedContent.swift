/// The bytes the test server serves: a pure function of `(seed, offset)`, so a client can check
/// every byte it received (at any offset, after any resume or range request) without a copy of
/// the "file".
///
/// Byte `o` is byte `o % 8` (little-endian) of `splitmix64(seed &+ (o / 8) &* 0x9E3779B97F4A7C15)`,
/// where `splitmix64(x)` is the standard SplitMix64 step on state `x`: add the golden gamma
/// `0x9E3779B97F4A7C15`, then the two xor-shift-multiply rounds and a final xor-shift.
///
/// All functions are pure and safe from any thread.
public enum GeneratedContent {
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The 8-byte word holding bytes `8 * index ..< 8 * index + 8`.
    @inline(__always)
    static func word(seed: UInt64, index: UInt64) -> UInt64 {
        var z = (seed &+ index &* gamma) &+ gamma
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The byte at `offset` of the content for `seed`.
    @inline(__always)
    public static func byte(seed: UInt64, offset: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: word(seed: seed, index: offset / 8) >> ((offset % 8) * 8))
    }

    /// Fills `buffer` with the content for `seed` starting at content offset `offset`.
    ///
    /// The buffer may have any alignment and length: the partial words at either end are written
    /// byte by byte, the middle as whole (possibly unaligned) 8-byte stores.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer, seed: UInt64, offset: UInt64) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let count = buffer.count
        var position = 0
        var contentOffset = offset
        // Leading bytes until the content offset reaches a word boundary.
        while position < count && contentOffset % 8 != 0 {
            base.storeBytes(of: byte(seed: seed, offset: contentOffset), toByteOffset: position, as: UInt8.self)
            position += 1
            contentOffset += 1
        }
        var index = contentOffset / 8
        // Whole words; storeBytes allows unaligned addresses (SE-0349), so the buffer's own
        // alignment does not matter.
        while count - position >= 8 {
            base.storeBytes(of: word(seed: seed, index: index).littleEndian, toByteOffset: position, as: UInt64.self)
            position += 8
            index &+= 1
        }
        if position < count {
            let last = word(seed: seed, index: index)
            var shift: UInt64 = 0
            while position < count {
                base.storeBytes(of: UInt8(truncatingIfNeeded: last >> shift), toByteOffset: position, as: UInt8.self)
                position += 1
                shift += 8
            }
        }
    }

    /// Checks `buffer` against the content for `seed` starting at content offset `offset`.
    /// - Returns: the index (into `buffer`) of the first byte that differs, or nil if all match.
    public static func firstMismatch(in buffer: UnsafeRawBufferPointer, seed: UInt64, offset: UInt64) -> Int? {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return nil }
        let count = buffer.count
        var position = 0
        var contentOffset = offset
        while position < count && contentOffset % 8 != 0 {
            if base.load(fromByteOffset: position, as: UInt8.self) != byte(seed: seed, offset: contentOffset) {
                return position
            }
            position += 1
            contentOffset += 1
        }
        var index = contentOffset / 8
        while count - position >= 8 {
            let expected = word(seed: seed, index: index)
            let actual = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            if actual != expected {
                // The lowest differing bit's byte is the first wrong byte (little-endian order).
                return position + (actual ^ expected).trailingZeroBitCount / 8
            }
            position += 8
            index &+= 1
        }
        if position < count {
            let last = word(seed: seed, index: index)
            var shift: UInt64 = 0
            while position < count {
                if base.load(fromByteOffset: position, as: UInt8.self) != UInt8(truncatingIfNeeded: last >> shift) {
                    return position
                }
                position += 1
                shift += 8
            }
        }
        return nil
    }
}
