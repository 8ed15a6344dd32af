import TestSupport
import Testing

@testable import NetCore

/// Issue 13 point 8: timer starts read the clock once per job, not once per start, and a long
/// job still cannot make a timer fire early.
@Suite struct TimerClockTests {
    /// Spins on the calling thread for `duration`: makes a job long without parking it.
    static func busyWait(_ duration: Duration) {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {}
    }

    @Test func oneJobStartingManyTimersReadsTheClockOnce() throws {
        let updates = try runTasklet { () async throws -> UInt64 in
            // Loop.current is set: a tasklet runs on its loop's thread.
            guard let loop = Loop.current else { throw TestFailure("not on a loop") }
            let timers = (0..<100).map { _ in OneShotTimer(loop: loop) }
            let before = loop.clockUpdates
            for timer in timers { timer.start(after: .seconds(60)) {} }
            let after = loop.clockUpdates
            for timer in timers { timer.stop() }
            return after - before
        }
        #expect(updates == 1)
    }

    @Test func aTimerStartedAfterABusyJobFiresNoEarlierThanAsked() throws {
        let loop = try Loop()
        let delay = Duration.milliseconds(10)
        let elapsed = Box<Duration?>(nil)
        // The first tasklet's job starts a timer (a fresh clock read); the second's job then
        // spins past the delay before starting its own. Were the first read reused across the
        // job boundary, the second timer would be measured from before the spin and fire early.
        loop.spawn { try? await sleep(for: .milliseconds(50)) }
        loop.spawn {
            Self.busyWait(.milliseconds(30))
            let start = ContinuousClock.now
            try? await sleep(for: delay)
            elapsed.value = start.duration(to: .now)
        }
        loop.run()
        let measured = try #require(elapsed.value)
        #expect(measured >= delay, "fired \(delay - measured) early")
        #expect(loop.clockUpdates >= 2, "each job read the clock for its own timer")
    }
}
