import TestSupport
import Testing

@testable import NetCore

@Suite struct TimerTests {
    @Test func sleepParksForAtLeastTheDuration() throws {
        let elapsed = try runTasklet { () async throws -> Duration in
            let start = ContinuousClock.now
            try await sleep(for: .milliseconds(30))
            return start.duration(to: .now)
        }
        #expect(elapsed >= .milliseconds(30))
        #expect(elapsed < .seconds(2))
    }

    @Test func sleepsOfManyTaskletsEndInDeadlineOrder() throws {
        let loop = try Loop()
        let order = Box<[Int]>([])
        for delay in [40, 10, 30, 20] {
            loop.spawn {
                try await sleep(until: ContinuousClock.now + .milliseconds(delay))
                order.value.append(delay)
            }
        }
        loop.run()
        #expect(order.value == [10, 20, 30, 40])
    }

    @Test func withTimeoutReturnsTheBodysValueInTime() throws {
        let value = try runTasklet {
            try await withTimeout(.seconds(5)) {
                try await sleep(for: .milliseconds(5))
                return 7
            }
        }
        #expect(value == 7)
    }

    @Test func withTimeoutCancelsTheBodyAndThrowsTimeoutError() throws {
        let bodySawCancellation = Box(false)
        #expect(throws: TimeoutError.self) {
            try runTasklet {
                try await withTimeout(.milliseconds(20)) {
                    do {
                        try await sleep(for: .seconds(30))
                    } catch is CancellationError {
                        bodySawCancellation.value = true
                        throw CancellationError()
                    }
                }
            }
        }
        #expect(bodySawCancellation.value)
    }

    @Test func withTimeoutPassesTheBodysErrorThrough() throws {
        #expect(throws: TestFailure.self) {
            try runTasklet {
                try await withTimeout(.seconds(5)) { () async throws -> Int in throw TestFailure("inner") }
            }
        }
    }

    @Test func withDeadlineInThePastThrowsAtOnce() throws {
        #expect(throws: TimeoutError.self) {
            try runTasklet {
                try await withDeadline(ContinuousClock.now - .seconds(1)) { 1 }
            }
        }
    }

    @Test func cancellingASleepingTaskletStopsItsTimer() async throws {
        let loop = try Loop()
        let sleeper = loop.spawn { try await sleep(for: .seconds(60)) }
        let watchersWhileSleeping = Box(-1)
        loop.spawn {
            await Tasklet.yield()
            watchersWhileSleeping.value = loop.stats.activeWatchers
            sleeper.cancel()
        }
        let start = ContinuousClock.now
        loop.run()
        #expect(start.duration(to: .now) < .seconds(5))
        #expect(watchersWhileSleeping.value == 1)
        #expect(loop.stats.activeWatchers == 0)
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }

    @Test func cancellingFromAnotherThreadResumesTheSleeper() async throws {
        let loop = try Loop()
        let parked = Channel<Int>(capacity: 1)
        let sleeper = loop.spawn {
            try await parked.send(1)
            try await sleep(for: .seconds(60))
        }
        let thread = TestThread.start {
            _ = try? parked.receiveBlocking()
            sleeper.cancel()
        }
        loop.run()
        thread.join()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(loop.stats.activeWatchers == 0)
    }

    @Test func sleepOutsideATaskletIsAClearError() async {
        await #expect(throws: LoopError.notOnLoopThread("sleep(for:)")) {
            try await sleep(for: .milliseconds(1))
        }
    }
}
