import Testing

@testable import HTTPClient

/// `SpeedWindow`, sans I/O: bytes and instants in, "too slow" out.
@Suite("SpeedWindow")
struct SpeedWindowTests {
    let start = ContinuousClock.now
    let limit = SpeedLimit(bytesPerSecond: 1000, window: .seconds(1))

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test("nothing is judged before a whole window has passed")
    func noVerdictBeforeWindow() {
        var window = SpeedWindow(limit, start: start)
        let early = window.record(1, at: at(100))
        let almost = window.record(1, at: at(999))
        let whole = window.record(1, at: at(1000))
        #expect(!early && !almost && whole)
    }

    @Test("a steady rate at or above the floor passes; below it fails")
    func steadyRates() {
        var fast = SpeedWindow(limit, start: start)
        var slow = SpeedWindow(limit, start: start)
        var fastFailed = false
        var slowFailed = false
        for tick in 1...50 {
            // 50 B every 50 ms is 1,000 B/s; 40 B every 50 ms is 800 B/s.
            fastFailed = fastFailed || fast.record(55, at: at(tick * 50))
            slowFailed = slowFailed || slow.record(40, at: at(tick * 50))
        }
        #expect(!fastFailed)
        #expect(slowFailed)
    }

    @Test("a slowdown after a fast start is caught about one window after it began, as the window slides")
    func slowdownAfterFastStart() {
        var window = SpeedWindow(limit, start: start)
        let burst = window.record(100_000, at: at(100))
        #expect(!burst)
        // Then a trickle: the burst leaves the window once it is more than a window old.
        var failedAt: Int?
        for tick in 1...60 where failedAt == nil {
            if window.record(10, at: at(100 + tick * 50)) { failedAt = 100 + tick * 50 }
        }
        let when = failedAt ?? -1
        #expect(when >= 1100 && when <= 1300, "failed at \(when) ms")
    }

    @Test("a long gap with no reads clears the whole ring")
    func gapClearsRing() {
        var window = SpeedWindow(limit, start: start)
        let first = window.record(5000, at: at(500))
        let afterGap = window.record(1, at: at(60_000))
        #expect(!first && afterGap)
    }
}
