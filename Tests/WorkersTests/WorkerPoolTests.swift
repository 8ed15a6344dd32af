import NetCore
import TestSupport
import Testing

@testable import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `body` as a tasklet on a fresh loop on this thread (`runTasklet`, with the defaults
/// these tests have always had: no tasklet name, no check on watchers); returns its result.
func inTasklet<T: Sendable>(_ body: sending @escaping () async throws -> T) throws -> T {
    try runTasklet(tasklet: nil, expectNoWatchers: false, unfinished: "test loop ended early", body)
}

/// Whether a thread of this process with kernel id `tid` still exists.
func threadExists(_ tid: Int32) -> Bool {
    access("/proc/self/task/\(tid)", F_OK) == 0
}

/// Waits (bounded) until the pool's workers have all started and recorded their ids.
func workerIDs(of pool: WorkerPool) -> [Int32] {
    for _ in 0..<2_000 where pool.kernelThreadIDs.count < pool.threadCount { usleep(1_000) }
    return pool.kernelThreadIDs
}

struct JobFailure: Error, Equatable {}

/// Waits, from a tasklet, until `condition` holds, yielding to the loop's other tasklets between
/// checks. - Throws: `TestFailure` naming `what` if it does not hold within `limit`.
func yieldUntil(_ what: String, within limit: Duration = .seconds(10), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("not within \(limit): \(what)") }
        await Tasklet.yield()
    }
}

@Suite struct WorkerPoolTests {
    @Test func callAsyncReturnsTheValueWhileTheLoopKeepsRunning() throws {
        let pool = try WorkerPool(threads: 2)
        defer { pool.shutdown() }
        let tenTicks = Event()
        let (value, sawTicks) = try inTasklet { () async throws -> (Int, Bool) in
            let ticks = Box(0)
            let ticker = Loop.current!.spawn {
                while !Task.isCancelled {
                    ticks.value += 1
                    if ticks.value == 10 { tenTicks.set() }
                    await Tasklet.yield()
                }
            }
            // The job blocks its worker thread until the loop has ticked ten times: it can only
            // return if the loop ran other tasklets while the caller was parked.
            let value = try await pool.callAsync("add after ten ticks") { _ -> (Int, Bool) in
                (40 + 2, tenTicks.waitBlocking(timeout: .seconds(10)))
            }
            ticker.cancel()
            return value
        }
        #expect(value == 42)
        #expect(sawTicks, "the loop ran other tasklets while the job blocked")
    }

    @Test func errorsAreRethrownAndThePoolSurvivesThem() throws {
        let pool = try WorkerPool(threads: 1)
        defer { pool.shutdown() }
        let outcome = try inTasklet { () async throws -> [String] in
            var log: [String] = []
            do {
                _ = try await pool.callAsync { _ -> Int in throw JobFailure() }
            } catch is JobFailure {
                log.append("rethrown")
            }
            log.append("next: \(try await pool.callAsync { _ in 7 })")
            return log
        }
        #expect(outcome == ["rethrown", "next: 7"])
        #expect(pool.stats.failed == 1)
        #expect(pool.stats.completed == 2)
    }

    @Test func aPlainThreadCallBlocksUntilTheJobHasRun() throws {
        let pool = try WorkerPool(threads: 2)
        defer { pool.shutdown() }
        let ranOn = Box<pthread_t?>(nil)
        let value = try pool.call { _ -> String in
            ranOn.value = pthread_self()
            return "done"
        }
        #expect(value == "done")
        #expect(ranOn.value.map { pthread_equal($0, pthread_self()) == 0 } == true)
        #expect(throws: JobFailure.self) { try pool.call { _ -> Int in throw JobFailure() } }
    }

    @Test func aFullQueueFailsFastOrWaitsByTheCallersChoice() throws {
        let pool = try WorkerPool(threads: 1, maxQueued: 2)
        defer { pool.shutdown() }
        let gate = Event()
        let firstRunning = Event()
        let outcome = try inTasklet { () async throws -> [String] in
            let loop = Loop.current!
            defer { gate.set() }  // an early throw must not leave the jobs (and shutdown) blocked
            // One job holds the only thread (and says so); two more fill the queue.
            let held = (0..<3).map { index in
                loop.spawn {
                    try await pool.callAsync("held \(index)") { _ in
                        firstRunning.set()
                        _ = gate.waitBlocking(timeout: .seconds(20))
                        return index
                    }
                }
            }
            guard try await firstRunning.wait(timeout: .seconds(10)) else { throw TestFailure("the first job never ran") }
            try await yieldUntil("two jobs queued behind the running one") { pool.stats.queueDepth == 2 }
            var log: [String] = []
            do {
                _ = try await pool.callAsync(whenFull: .fail) { _ in 0 }
                log.append("no error")
            } catch let error as WorkerPoolError {
                log.append("\(error)")
            }
            let parkedBefore = loop.stats.taskletsParked
            let waiterStarted = Box(false)
            let waiter = loop.spawn { () async throws -> Int in
                waiterStarted.value = true
                return try await pool.callAsync("waited", whenFull: .wait) { _ in 99 }
            }
            // Parked, not merely not started: it ran (and recorded that), it is suspended in a
            // NetCore wait, it has no result, and its job is not in the queue (it waits for a place).
            do {
                try await yieldUntil("the waiter started and parked") {
                    waiterStarted.value && loop.stats.taskletsParked == parkedBefore + 1
                }
                log.append(
                    "waiter parked: started \(waiterStarted.value), alive \(waiter.isAlive), result \(waiter.result == nil ? "none" : "some"), queued \(pool.stats.queueDepth)"
                )
            } catch let error as TestFailure {
                log.append("\(error); started \(waiterStarted.value), alive \(waiter.isAlive), \(loop.stats)")
            }
            gate.set()
            let waited = try? await waiter.value
            log.append(
                "results: \(try await held[0].value) \(try await held[1].value) \(try await held[2].value) \(waited.map(String.init) ?? "threw")"
            )
            return log
        }
        try #require(outcome.count == 3, "\(outcome)")
        #expect(outcome[0].contains("queue is full (2 jobs waiting)"))
        #expect(outcome[1] == "waiter parked: started true, alive true, result none, queued 2")
        #expect(outcome[2] == "results: 0 1 2 99")
    }

    @Test func cancellingTheCallerResumesItAtOnceAndDropsTheLateResult() async throws {
        let pool = try WorkerPool(threads: 1)
        defer { pool.shutdown() }
        let jobSawCallerLeave = Box(false)
        let jobRunning = Event()
        let callerResumed = Event()
        let jobEnded = Event()
        let loop = try Loop()
        let caller = loop.spawn {
            try await pool.callAsync("long") { context -> Int in
                jobRunning.set()
                // The job outlives the caller: it ends only once the caller has resumed (or a
                // deadline passes, when the caller did not resume without it).
                let until = MonotonicClock.nanoseconds() + 5_000_000_000
                while context.isCallerWaiting && MonotonicClock.nanoseconds() < until { usleep(1_000) }
                jobSawCallerLeave.value = !context.isCallerWaiting
                _ = callerResumed.waitBlocking(timeout: .seconds(5))
                jobEnded.set()
                return 1
            }
        }
        let resumedWhileJobRan = Box<Bool?>(nil)
        loop.spawn {
            // Cancel only once the job is running on the worker (not queued): its result is then late.
            guard try await jobRunning.wait(timeout: .seconds(10)) else { return }
            caller.cancel()
            _ = try? await caller.value
            resumedWhileJobRan.value = !jobEnded.isSet
            callerResumed.set()
        }
        loop.run()
        #expect(jobRunning.isSet, "the job ran")
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(resumedWhileJobRan.value == true, "the caller resumed at once, while its job still ran")
        pool.shutdown()  // waits for the job to end
        #expect(jobSawCallerLeave.value)
        #expect(pool.stats.droppedResults == 1)
    }

    @Test func shutdownDrainsOrCancelsQueuedJobsAndJoinsTheThreads() throws {
        let draining = try WorkerPool(threads: 3)
        let drainingThreads = workerIDs(of: draining)
        #expect(drainingThreads.count == 3)
        #expect(drainingThreads.allSatisfy(threadExists))
        let ran = Box(0)
        let counter = PThreadMutex()
        let gate = Event()
        let callers = (0..<6).map { _ in
            TestThread.start {
                _ = try? draining.call { _ in
                    gate.waitBlocking()
                    counter.withLock { ran.value += 1 }
                }
            }
        }
        for _ in 0..<5_000 where draining.stats.queueDepth + draining.stats.busyThreads < 6 { usleep(1_000) }
        gate.set()
        draining.shutdown(.drain)
        callers.forEach { $0.join() }
        #expect(counter.withLock { ran.value } == 6)
        #expect(!drainingThreads.contains(where: threadExists), "shutdown joined every worker")
        #expect(draining.stats.threads == 0)
        #expect(throws: WorkerPoolError.shutDown(pool: "workers")) { try draining.call { _ in 1 } }

        let cancelling = try WorkerPool(threads: 1, name: "cancelling")
        let cancellingThreads = workerIDs(of: cancelling)
        let release = Event()
        let refused = NetCore.Semaphore(0)
        let outcomes = Box<[String]>([])
        let lock = PThreadMutex()
        let blockers = (0..<4).map { _ in
            TestThread.start {
                do {
                    // Every job blocks, so whichever runs first holds the only thread and the
                    // other three stay queued.
                    _ = try cancelling.call { _ in release.waitBlocking(timeout: .seconds(20)) }
                    lock.withLock { outcomes.value.append("ran") }
                } catch {
                    lock.withLock { outcomes.value.append("\(error)") }
                    refused.release()
                }
            }
        }
        // One job running (blocked), three queued behind it.
        for _ in 0..<5_000 where !(cancelling.stats.busyThreads == 1 && cancelling.stats.queueDepth == 3) {
            usleep(1_000)
        }
        // The running job is released once shutdown has failed the three queued calls (so it
        // cannot pick one of them up), or after a deadline when shutdown did not.
        let releasedInTime = Box(0)
        let releaser = TestThread.start {
            let deadline = ContinuousClock.now + .seconds(10)
            while releasedInTime.value < 3, refused.acquireBlocking(timeout: max(.zero, ContinuousClock.now.duration(to: deadline))) {
                releasedInTime.value += 1
            }
            release.set()
        }
        cancelling.shutdown(.cancelQueued)
        blockers.forEach { $0.join() }
        releaser.join()
        let seen = lock.withLock { outcomes.value }
        #expect(releasedInTime.value == 3, "shutdown(.cancelQueued) failed the queued calls while a job still ran: \(seen)")
        #expect(seen.filter { $0 == "ran" }.count == 1)
        #expect(seen.filter { $0.contains("shut down") }.count == 3)
        #expect(!cancellingThreads.contains(where: threadExists))
    }

    @Test func aBlockedJobShowsInStatsAndInTheLoopWatchdog() throws {
        let pool = try WorkerPool(threads: 2, name: "stalls")
        defer { pool.shutdown() }
        let release = Event()
        let loop = try Loop(name: "game")
        let loopReports = Box<[WatchdogReport]>([])
        loop.setWatchdog(threshold: .seconds(10)) { loopReports.value.append($0) }
        let poolReports = Box<[String]>([])
        let poolReportsLock = PThreadMutex()
        // The pool reports the stalled job itself, and to the calling tasklet's loop watchdog.
        pool.setWatchdog(threshold: .milliseconds(30)) { report in
            poolReportsLock.withLock { poolReports.value.append(report.jobName) }
        }
        let stats = Box<WorkerPoolStats?>(nil)
        loop.spawn(name: "downloader") {
            try await pool.callAsync("stuck download") { _ in release.waitBlocking() }
        }
        loop.spawn {
            defer { release.set() }
            let deadline = ContinuousClock.now + .seconds(20)
            while loopReports.value.isEmpty && ContinuousClock.now < deadline { try await sleep(for: .milliseconds(5)) }
            stats.value = pool.stats
        }
        loop.run()
        let snapshot = try #require(stats.value)
        #expect(snapshot.busyThreads == 1)
        #expect(snapshot.longestRunning?.name == "stuck download")
        #expect((snapshot.longestRunning?.running ?? .zero) >= .milliseconds(30))
        let report = try #require(loopReports.value.first)
        #expect(report.workerJob == "stuck download")
        #expect(report.taskletName == "downloader")
        #expect(report.loopName == "game")
        #expect(poolReportsLock.withLock { poolReports.value } == ["stuck download"])
        #expect(report.description.contains("worker job 'stuck download'"))
    }

    @Test func manyResultsArrivingTogetherShareOneWakeUp() throws {
        let pool = try WorkerPool(threads: 2)
        defer { pool.shutdown() }
        let loop = try Loop()
        let gate = Event()
        let callers = (0..<200).map { index in
            loop.spawn {
                try await pool.callAsync { _ in
                    gate.waitBlocking()
                    return index
                }
            }
        }
        // One frame submits every job (they wait on the gate); then the loop is not driven while
        // the jobs finish, so their results pile up in its inbox.
        loop.pump(budget: .seconds(1))
        #expect(loop.stats.taskletsParked == 200)
        let wakeupsBefore = loop.stats.crossThreadWakeups
        gate.set()
        // A job counts as completed just before its result is posted: wait for the posts.
        for _ in 0..<5_000 where loop.stats.inboxDepth < 200 { usleep(1_000) }
        #expect(loop.stats.inboxDepth == 200)
        let wakeups = loop.stats.crossThreadWakeups - wakeupsBefore
        #expect(wakeups == 1, "200 results cost \(wakeups) wake-ups")
        while callers.contains(where: \.isAlive) { loop.pump(budget: .seconds(1)) }
        #expect(callers.map { try? $0.result?.get() } == (0..<200).map { $0 })
    }
}
