import Synchronization
import TestSupport
import Testing

@testable import NetCore

@Suite struct LoopTests {
    @Test func runReturnsTheTaskletsValueAndStopsWhenIdle() async throws {
        let loop = try Loop()
        let handle = loop.spawn(name: "adder") { () async throws -> Int in
            #expect(Tasklet.current?.name == "adder")
            #expect(Loop.current === Tasklet.current?.loop)
            return 40 + 2
        }
        #expect(handle.isAlive)
        loop.run()
        #expect(!handle.isAlive)
        #expect(try await handle.value == 42)
        #expect(loop.stats.taskletsAlive == 0)
        #expect(Tasklet.current == nil)
        #expect(Loop.current == nil)
    }

    @Test func aTaskletWithoutANameIsCalledByItsID() throws {
        let loop = try Loop()
        let unnamed = loop.spawn { Tasklet.current?.name }
        let named = loop.spawn(name: "") { Tasklet.current?.name }
        loop.run()
        #expect(try unnamed.result?.get() == "tasklet-\(unnamed.tasklet.id)")
        #expect(unnamed.name == "tasklet-\(unnamed.tasklet.id)")
        #expect(try named.result?.get() == "", "a given name is kept, even an empty one")
    }

    @Test func valueRethrowsTheTaskletsError() async throws {
        let loop = try Loop()
        let handle = loop.spawn { () async throws -> Int in throw TestFailure("boom") }
        loop.run()
        await #expect(throws: TestFailure.self) { try await handle.value }
    }

    @Test func yieldInterleavesReadyTasklets() throws {
        let loop = try Loop()
        let log = Box<[String]>([])
        for name in ["a", "b"] {
            loop.spawn(name: name) {
                for step in 0..<3 {
                    log.value.append("\(name)\(step)")
                    await Tasklet.yield()
                }
            }
        }
        loop.run()
        #expect(log.value == ["a0", "b0", "a1", "b1", "a2", "b2"])
    }

    @Test(arguments: LoopBackend.concrete)
    func eachBackendCanBeChosen(backend: LoopBackend) throws {
        let loop = try Loop(backend: backend)
        #expect(loop.backend == backend)
    }

    @Test func spawnFromAnotherThreadWakesTheLoop() throws {
        let loop = try Loop()
        let gate = Channel<Int>()
        // A tasklet that keeps the loop alive until the other thread's tasklet talks to it.
        let receiver = loop.spawn { try await gate.receive() }
        let thread = TestThread.start {
            loop.spawn(name: "from-thread") { try await gate.send(7) }
        }
        loop.run()
        thread.join()
        #expect(!receiver.isAlive)
        #expect(loop.stats.taskletsAlive == 0)
    }

    @Test func stopEndsRunWhileTaskletsAreParked() async throws {
        let loop = try Loop()
        let never = Channel<Int>()
        let parked = loop.spawn { try await never.receive() }
        let thread = runOnThread(loop)
        // Wait (on the loop, through a channel) until the tasklet is parked, then stop from here.
        let ready = Channel<Int>(capacity: 1)
        loop.spawn { try await ready.send(loop.stats.taskletsParked) }
        _ = try ready.receiveBlocking()
        loop.stop()
        thread.join()
        #expect(parked.isAlive, "stop() returns from run() without finishing parked tasklets")
        never.close()
        loop.run()
        #expect(!parked.isAlive)
        await #expect(throws: ChannelError.closed) { try await parked.value }
    }

    @Test func pumpRunsReadyJobsUntilTheBudgetIsSpent() throws {
        let loop = try Loop()
        loop.disableWatchdog()
        let steps = Box(0)
        // A tasklet that never parks: each yield is one job. A frame must stop at its budget.
        let spinner = loop.spawn(name: "spinner") {
            while !Task.isCancelled {
                steps.value += 1
                for _ in 0..<1_000 { _ = Tasklet.current }  // a little work per step
                await Tasklet.yield()
            }
        }
        let report = loop.pump(budget: .milliseconds(5))
        #expect(report.budgetExhausted)
        #expect(report.jobsRun > 1)
        #expect(report.jobsStillReady >= 1)
        // It stops at the budget, or past half of it when the next step would not fit.
        #expect(report.elapsed >= .milliseconds(2.5))
        let stepsAfterFirstFrame = steps.value
        let second = loop.pump(budget: .milliseconds(1))
        #expect(steps.value > stepsAfterFirstFrame, "the next frame continues the work")
        #expect(second.jobsRun > 0)
        spinner.cancel()
        while spinner.isAlive { loop.pump(budget: .milliseconds(1)) }
    }

    @Test func pumpReturnsAtOnceWhenNothingIsReady() throws {
        let loop = try Loop()
        let report = loop.pump(budget: .seconds(1))
        #expect(report.jobsRun == 0)
        #expect(!report.budgetExhausted)
        #expect(report.elapsed < .seconds(1))
    }

    @Test func pumpDeliversTimersAndSocketsAcrossFrames() async throws {
        let loop = try Loop()
        let (left, right) = try StreamSocket.makePair()
        let received = loop.spawn { try await right.read(exactly: 5) }
        loop.spawn {
            try await sleep(for: .milliseconds(20))
            try await left.write("hello")
        }
        var frames = 0
        let giveUp = ContinuousClock.now + .seconds(5)
        while received.isAlive && ContinuousClock.now < giveUp {
            loop.pump(budget: .milliseconds(2))
            frames += 1
        }
        #expect(!received.isAlive)
        #expect(frames > 1, "the sleep spans several frames")
        #expect(try await received.value == Array("hello".utf8))
        let stats = loop.stats
        #expect(stats.activeWatchers == 0)
        #expect(stats.taskletsAlive == 0)
    }

    @Test func statsCountParkedReadyAndInbox() throws {
        let loop = try Loop()
        let gate = Channel<Int>()
        let seen = Box<LoopStats?>(nil)
        for _ in 0..<3 { loop.spawn { _ = try await gate.receive() } }
        loop.spawn {
            await Tasklet.yield()  // let the three park first
            seen.value = loop.stats
            for value in 0..<3 { try await gate.send(value) }
        }
        #expect(loop.stats.inboxDepth == 4, "spawned from outside the loop: the jobs wait in the inbox")
        loop.run()
        let stats = try #require(seen.value)
        #expect(stats.taskletsAlive == 4)
        #expect(stats.taskletsParked == 3)
        #expect(stats.inboxDepth == 0)
        #expect(loop.stats.jobsRun >= 8)
        #expect(loop.stats.taskletsParked == 0)
    }

    @Test func watchdogNamesATaskletThatHoldsTheLoop() throws {
        let loop = try Loop()
        let reports = Box<[WatchdogReport]>([])
        loop.setWatchdog(threshold: .milliseconds(30)) { reports.value.append($0) }
        loop.spawn(name: "polite") {
            for _ in 0..<10 { await Tasklet.yield() }
        }
        loop.spawn(name: "spinner") {
            let until = ContinuousClock.now + .milliseconds(120)
            while ContinuousClock.now < until {}  // holds the loop: never awaits
        }
        loop.run()
        #expect(reports.value.count == 1)
        let report = try #require(reports.value.first)
        #expect(report.taskletName == "spinner")
        #expect(report.held >= .milliseconds(100))
        #expect(report.loopName == "loop")
        #expect(report.description.contains("spinner"))
    }

    @Test func anActorOnTheLoopsSerialExecutorRunsOnTheLoopThread() async throws {
        let loop = try Loop()
        let counter = LoopBoundCounter(loop: loop)
        let done = loop.spawn { () async -> Int in
            for _ in 0..<100 { await counter.increment() }
            return await counter.value
        }
        loop.run()
        #expect(try await done.value == 100)
        let ranOnLoopThread = counter.ranOnLoopThread.load(ordering: .relaxed)
        #expect(ranOnLoopThread)
    }
}

/// An actor whose executor is a loop's serial executor.
actor LoopBoundCounter {
    let loop: Loop
    private(set) var value = 0
    nonisolated let ranOnLoopThread = Atomic<Bool>(true)

    init(loop: Loop) { self.loop = loop }

    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.serialExecutor.asUnownedSerialExecutor() }

    func increment() {
        if !loop.isCurrent { ranOnLoopThread.store(false, ordering: .relaxed) }
        value += 1
    }
}
