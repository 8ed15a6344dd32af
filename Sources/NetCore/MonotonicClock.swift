import CLinuxShim

/// `CLOCK_MONOTONIC` in nanoseconds: the clock of every timed wait in the project (a wall-clock
/// step must not cut a wait short or stretch it). Any thread; a vDSO call, no system call.
public enum MonotonicClock {
    /// Now, in nanoseconds since an arbitrary start (boot).
    @inlinable @inline(__always)
    public static func nanoseconds() -> Int64 { Int64(cln_now_ns()) }

    /// `CLOCK_MONOTONIC_COARSE`: a few nanoseconds cheaper, at a resolution of one scheduler tick.
    /// For the watchdogs, whose thresholds are milliseconds.
    @inlinable @inline(__always)
    public static func coarseNanoseconds() -> Int64 { Int64(cln_coarse_now_ns()) }
}
