/// Judges one response's speed against a `SpeedLimit`, sans I/O: the caller says how many
/// bytes arrived and when; the window says whether the average over the last `window` fell
/// below the floor.
///
/// The window slides in ten slices of `window / 10`: the bytes of the last ten slices (the
/// current one partly elapsed) over the time they span, so a slowdown is caught within a
/// tenth of the window after it has lasted the whole window, wherever it began, at the cost of
/// ten counters. Nothing is judged before a whole window has passed since `start`. A value
/// type, used by one tasklet.
struct SpeedWindow {
    static let slices = 10

    let limit: SpeedLimit
    private let start: ContinuousClock.Instant
    private let sliceNanos: Int64
    private var counts = [UInt64](repeating: 0, count: SpeedWindow.slices)
    /// The slice the newest count is in, counted from `start`.
    private var newest: Int64 = 0

    init(_ limit: SpeedLimit, start: ContinuousClock.Instant) {
        self.limit = limit
        self.start = start
        sliceNanos = max(1, Self.nanoseconds(limit.window) / Int64(Self.slices))
    }

    /// Counts `bytes` that arrived at `now`. - Returns: true when the average over the last
    /// window is below the limit (the response is too slow).
    mutating func record(_ bytes: Int, at now: ContinuousClock.Instant) -> Bool {
        let elapsed = Self.nanoseconds(start.duration(to: now))
        let slice = max(newest, elapsed / sliceNanos)
        // Slices that passed without a byte: zero, at most the whole ring.
        var cleared = newest + 1
        while cleared <= slice && cleared <= newest + Int64(Self.slices) {
            counts[Int(cleared % Int64(Self.slices))] = 0
            cleared += 1
        }
        newest = slice
        counts[Int(slice % Int64(Self.slices))] += UInt64(max(0, bytes))
        guard elapsed >= Self.nanoseconds(limit.window) else { return false }
        // The ten slices span from the start of the oldest to now.
        let spanNanos = elapsed - (slice - Int64(Self.slices) + 1) * sliceNanos
        let received = Double(counts.reduce(0, +))
        return received < Double(limit.bytesPerSecond) * Double(spanNanos) / 1e9
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
