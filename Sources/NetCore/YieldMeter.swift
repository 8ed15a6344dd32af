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

    public let limit: Int
    private var unparkedBytes = 0

    public init(limit: Int = YieldMeter.defaultLimit) { self.limit = max(1, limit) }

    /// The last operation had to wait (park): the tasklet already gave way.
    public mutating func didWait() { unparkedBytes = 0 }

    /// `bytes` moved without waiting. - Returns: true when the caller should yield now.
    public mutating func movedWithoutWaiting(_ bytes: Int) -> Bool {
        unparkedBytes += bytes
        guard unparkedBytes >= limit else { return false }
        unparkedBytes = 0
        return true
    }
}
