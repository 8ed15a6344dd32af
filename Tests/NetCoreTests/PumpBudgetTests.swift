import Synchronization
import TestSupport
import Testing

@testable import NetCore

/// Spins for `nanoseconds` of wall time: a tasklet step that costs a known amount.
private func busy(_ nanoseconds: Int64) {
    let start = MonotonicClock.nanoseconds()
    while MonotonicClock.nanoseconds() - start < nanoseconds {}
}

/// Pumps `loop` until `done()` or `maxFrames`, returning the number of frames it took.
private func pumpUntil(_ loop: Loop, budget: Duration, maxFrames: Int = 10_000, _ done: () -> Bool) throws -> Int {
    var frames = 0
    while !done() {
        loop.pump(budget: budget)
        frames += 1
        if frames > maxFrames { throw TestFailure("not done after \(maxFrames) frames: \(loop.stats)") }
    }
    return frames
}

/// The embedding rules a game relies on when it ticks the loop once per frame.
@Suite struct PumpBudgetTests {
    /// Steps of at least 1 ms each (spun on the pump's own clock, so a busy machine only makes
    /// them longer): a 5 ms frame runs at most 4 of them, and the report says what happened.
    /// Only counts and the pump's own rule are checked, never how long a frame took in real time:
    /// after the 4th step at least 4 ms have passed, more than half the budget, and 4 ms plus
    /// one and a half times the longest step (at least 1 ms) is past the budget, so the 5th
    /// waits. Without the half-budget rule the frame would run a 5th; without the budget, all
    /// 40. (A step can take more than one job: the runtime may resume a task in two hops, the
    /// second one trivial.)
    @Test func pumpReturnsWithinTheBudgetPlusAtMostOneJob() throws {
        let loop = try Loop()
        loop.disableWatchdog()
        let stepCount = 40
        let frameOfStep = Box<[Int]>([])
        let frame = Box(0)
        let worker = loop.spawn(name: "1ms-steps") {
            for _ in 0..<stepCount {
                frameOfStep.value.append(frame.value)
                busy(1_000_000)
                await Tasklet.yield()
            }
        }
        var reports: [PumpReport] = []
        let jobsBefore = loop.stats.jobsRun
        while worker.isAlive {
            frame.value += 1
            let start = MonotonicClock.nanoseconds()
            let report = loop.pump(budget: .milliseconds(5))
            let wall = MonotonicClock.nanoseconds() - start
            reports.append(report)
            let stepsThisFrame = frameOfStep.value.filter { $0 == frame.value }.count
            #expect(stepsThisFrame <= 4, "5 ms of 1 ms steps: the 5th would not fit (\(stepsThisFrame) steps, \(report))")
            #expect(report.jobsRun >= max(1, stepsThisFrame), "every frame runs at least one job: \(report)")
            #expect(report.polls >= 1)
            #expect(report.elapsed.nanosecondsClamped <= wall)
            if worker.isAlive {
                #expect(report.budgetExhausted, "work was left, so the budget ran out: \(report)")
                // The frame stops taking jobs only past half its budget (by its own clock).
                #expect(report.elapsed >= .milliseconds(2.5), "\(report)")
                #expect(report.jobsStillReady >= 1, "the yielding tasklet waits for the next frame")
            }
            if frame.value > 100 { throw TestFailure("40 steps did not finish in 100 frames") }
        }
        let last = try #require(reports.last)
        #expect(!last.budgetExhausted && last.jobsStillReady == 0, "work ran out before the budget: \(last)")
        #expect(reports.count >= 10, "40 steps at most 4 a frame need at least 10 frames")
        #expect(frameOfStep.value.count == stepCount)
        #expect(
            UInt64(reports.map(\.jobsRun).reduce(0, +)) == loop.stats.jobsRun - jobsBefore,
            "jobsRun adds up to the loop's own count")
    }

    /// A step that costs more than the whole budget (on the pump's clock) ends the frame: one
    /// step per frame, never two, however fast or slow the machine, and the report says the
    /// budget ran out with work left. A pump that ignored the budget would run them all at once.
    @Test func aStepThatSpendsTheBudgetEndsTheFrame() throws {
        let loop = try Loop()
        loop.disableWatchdog()
        let stepCount = 8
        let frameOfStep = Box<[Int]>([])
        let frame = Box(0)
        let worker = loop.spawn(name: "3ms-steps") {
            for _ in 0..<stepCount {
                frameOfStep.value.append(frame.value)
                busy(3_000_000)
                await Tasklet.yield()
            }
        }
        var exhaustedFrames = 0
        while worker.isAlive {
            frame.value += 1
            let report = loop.pump(budget: .milliseconds(2))
            let stepsThisFrame = frameOfStep.value.filter { $0 == frame.value }.count
            #expect(stepsThisFrame <= 1, "a 3 ms step spends a 2 ms budget: \(stepsThisFrame) steps in one frame, \(report)")
            #expect(report.jobsRun >= 1, "\(report)")
            if worker.isAlive {
                #expect(report.budgetExhausted && report.jobsStillReady >= 1, "work was left, so the budget ran out: \(report)")
                if report.budgetExhausted { exhaustedFrames += 1 }
            }
            if frame.value > 100 { throw TestFailure("\(stepCount) steps did not finish in 100 frames") }
        }
        #expect(frameOfStep.value.count == stepCount)
        #expect(Set(frameOfStep.value).count == stepCount, "each step had a frame of its own: \(frameOfStep.value)")
        #expect(exhaustedFrames >= stepCount - 1)
    }

    /// A zero budget still makes progress: exactly one job per frame.
    @Test func aZeroBudgetRunsExactlyOneJobPerFrame() throws {
        let loop = try Loop()
        for _ in 0..<3 { loop.spawn { for _ in 0..<3 { await Tasklet.yield() } } }
        var frames = 0
        while loop.stats.taskletsAlive > 0 {
            let report = loop.pump(budget: .zero)
            if report.jobsStillReady > 0 || report.jobsRun > 0 { #expect(report.jobsRun == 1, "\(report)") }
            frames += 1
            if frames > 100 { throw TestFailure("not done after 100 frames") }
        }
        #expect(frames >= 12, "3 tasklets × 4 jobs, one per frame")
    }

    /// Ready tasklets that a frame did not reach run first in the next one, in the order they
    /// became ready: the log is a strict round robin however the frames cut it.
    @Test(arguments: [Duration.zero, .microseconds(1_500)])
    func readyTaskletsRunInFIFOOrderAcrossFrames(budget: Duration) throws {
        let loop = try Loop()
        loop.disableWatchdog()
        let log = Box<[Int]>([])
        for id in 0..<10 {
            loop.spawn(name: "t\(id)") {
                for _ in 0..<5 {
                    log.value.append(id)
                    busy(300_000)
                    await Tasklet.yield()
                }
            }
        }
        let frames = try pumpUntil(loop, budget: budget, maxFrames: 1_000) { loop.stats.taskletsAlive == 0 }
        #expect(log.value == Array((0..<5).flatMap { _ in Array(0..<10) }), "round robin, frame after frame")
        #expect(frames >= 10, "15 ms of work was cut into frames (took \(frames))")
    }

    /// A tasklet that yields forever cannot starve one that waits on a socket: once the peer
    /// (a tasklet of another loop, on its own thread) has written, the reader has its data
    /// within two frames, even with a zero budget.
    @Test(arguments: [Duration.zero, .milliseconds(2)])
    func aYieldingTaskletDoesNotStarveASocketWaiter(budget: Duration) throws {
        let loop = try Loop()
        loop.disableWatchdog()
        let (writerEnd, readerEnd) = try StreamSocket.makePair()
        let stop = Atomic<Bool>(false)
        let spinner = loop.spawn(name: "spinner") {
            while !stop.load(ordering: .relaxed) { await Tasklet.yield() }
        }
        let received = Box<[UInt8]>([])
        let reader = loop.spawn(name: "reader") { received.value = try await readerEnd.read(exactly: 5, timeout: .seconds(10)) }
        // Let the reader park and the spinner take over the frames.
        _ = try pumpUntil(loop, budget: budget, maxFrames: 100) { loop.stats.taskletsParked == 1 }
        for _ in 0..<3 { loop.pump(budget: budget) }

        let peerLoop = try Loop(name: "peer")
        let go = Channel<Int>(capacity: 1)
        let written = Event()
        peerLoop.spawn(name: "writer") {
            _ = try await go.receive()
            try await writerEnd.write([1, 2, 3, 4, 5])
            written.set()
        }
        let peerThread = runOnThread(peerLoop)
        try go.sendBlocking(1)
        #expect(written.waitBlocking(timeout: .seconds(10)), "the peer wrote")
        let frames = try pumpUntil(loop, budget: budget, maxFrames: 50) { !reader.isAlive }
        #expect(frames <= 2, "the socket waiter got its data within two frames (took \(frames))")
        #expect(received.value == [1, 2, 3, 4, 5])
        #expect(spinner.isAlive, "the spinner was still yielding all along")
        stop.store(true, ordering: .relaxed)
        _ = try pumpUntil(loop, budget: budget, maxFrames: 100) { !spinner.isAlive }
        peerThread.join()
        writerEnd.close()
        readerEnd.close()
    }

    /// Results handed over a Channel from a plain worker thread and from a tasklet of another
    /// loop (on its own thread) reach the game's tasklet only on the thread that pumps.
    @Test func resultsFromOtherThreadsArriveOnlyOnThePumpingThread() throws {
        let gameThread = ThreadIdentity.kernelID
        let loop = try Loop(name: "game")
        let results = Channel<Int>(capacity: 4)
        let perSource = 200
        let seen = Box<[(value: Int, thread: Int32)]>([])
        let consumer = loop.spawn(name: "consumer") {
            for _ in 0..<(2 * perSource) {
                let value = try await results.receive()
                seen.value.append((value, ThreadIdentity.kernelID))
            }
        }
        let workerThreadID = Atomic<Int32>(0)
        let worker = TestThread.start {
            workerThreadID.store(ThreadIdentity.kernelID, ordering: .relaxed)
            for i in 0..<perSource { try? results.sendBlocking(i) }
        }
        let netLoop = try Loop(name: "net")
        netLoop.spawn(name: "producer") {
            for i in 0..<perSource { try await results.send(perSource + i) }
        }
        let netThread = runOnThread(netLoop)
        let start = MonotonicClock.nanoseconds()
        while consumer.isAlive {
            loop.pump(budget: .milliseconds(2))
            if MonotonicClock.nanoseconds() - start > 20_000_000_000 { break }  // a bug fails below instead of hanging
        }
        #expect(!consumer.isAlive, "every result arrived")
        results.close()  // after a failure, frees senders blocked on a full channel so the joins end
        worker.join()
        netThread.join()
        #expect(workerThreadID.load(ordering: .relaxed) != gameThread)
        #expect(seen.value.count == 2 * perSource)
        #expect(seen.value.allSatisfy { $0.thread == gameThread }, "every result was received on the game thread")
        #expect(Set(seen.value.map(\.value)) == Set(0..<(2 * perSource)))
        let fromWorker = seen.value.map(\.value).filter { $0 < perSource }
        #expect(fromWorker == Array(0..<perSource), "one source's results keep their order")
    }
}
