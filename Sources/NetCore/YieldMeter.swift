/// Keeps one tasklet from holding its loop while a fast peer keeps a socket ready: reads and
/// writes that complete without parking are counted, and every `limit` bytes the tasklet
/// yields (`Tasklet.yield()`), so that others, the loop's I/O poll and a game's frame budget
/// get their turn. A wait resets the count: a tasklet that parks already gives way.
///
/// NetCore's sockets use it; a protocol layer that moves bytes on its own (TLS) uses one too.
/// Confined to the loop thread of the socket that owns it.
public struct YieldMeter: Sendable {
    /// 512 KiB: about a tenth of a millisecond at loopback speed.
    public static let defaultLimit = 512 << 10

    /// Bytes between two yields (1 to 4 GiB - 1).
    public var limit: Int { Int(storedLimit) }
    // 32-bit fields: two meters sit in every socket, and every parked tasklet's socket pays for them.
    private let storedLimit: UInt32
    private var unparkedBytes: UInt32 = 0

    /// A meter that asks for a yield after `limit` bytes (clamped to 1 ... 4 GiB - 1).
    public init(limit: Int = YieldMeter.defaultLimit) { storedLimit = UInt32(clamping: max(1, limit)) }

    /// The last operation had to wait (park): the tasklet already gave way.
    public mutating func didWait() { unparkedBytes = 0 }

    /// `bytes` moved without waiting. - Returns: true when the caller should yield now.
    public mutating func movedWithoutWaiting(_ bytes: Int) -> Bool {
        let total = UInt64(unparkedBytes) + UInt64(clamping: max(0, bytes))
        guard total >= UInt64(storedLimit) else {
            unparkedBytes = UInt32(total)  // below the limit, so it fits
            return false
        }
        unparkedBytes = 0
        return true
    }
}
