import NetCore
import Synchronization
import Testing
@testable import Workers

#if canImport(Glibc)
import Glibc
#endif

/// A value handed between threads whose accesses are ordered by joins, run() or channels.
final class Box<Value>: @unchecked Sendable {  // accesses ordered by join/run/channel hand-offs
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs `body` as a tasklet on a fresh loop on this thread; returns its result.
func inTasklet<T: Sendable>(_ body: sending @escaping () async throws -> T) throws -> T {
    let loop = try Loop()
    let handle = loop.spawn(body)
    loop.run()
    guard let result = handle.result else { throw WorkerPoolError.shutDown(pool: "test loop ended early") }
    return try result.get()
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

@Suite struct WorkerPoolTests {
    @Test func callAsyncReturnsTheValueWhileTheLoopKeepsRunning() throws {
        let pool = try WorkerPool(threads: 2)
        defer { pool.shutdown() }
        let (value, ticks) = try inTasklet { () async throws -> (Int, Int) in
            let ticks = Box(0)
            let ticker = Loop.current!.spawn {
                while !Task.isCancelled {
                    ticks.value += 1
                    try await sleep(for: .milliseconds(1))
                }
            }
            let value = try await pool.callAsync("slow add") { _ in
                usleep(60_000)  // blocks a worker thread, not the loop
                return 40 + 2
            }
            ticker.cancel()
            return (value, ticks.value)
        }
        #expect(value == 42)
        #expect(ticks >= 10, "the loop ran other tasklets while the job blocked (ticks: \(ticks))")
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
        let outcome = try inTasklet { () async throws -> [String] in
            let loop = Loop.current!
            // One job holds the only thread; two more fill the queue.
            let held = (0..<3).map { index in
                loop.spawn { try await pool.callAsync("held \(index)") { _ in gate.waitBlocking(); return index } }
            }
            while pool.stats.queueDepth < 2 { try await sleep(for: .milliseconds(1)) }
            var log: [String] = []
            do {
                _ = try await pool.callAsync(whenFull: .fail) { _ in 0 }
            } catch let error as WorkerPoolError {
                log.append("\(error)")
            }
            let waiter = loop.spawn { try await pool.callAsync("waited", whenFull: .wait) { _ in 99 } }
            try await sleep(for: .milliseconds(10))
            log.append("waiter parked: \(waiter.isAlive)")
            gate.set()
            log.append("results: \(try await held[0].value) \(try await held[1].value) \(try await held[2].value) \(try await waiter.value)")
            return log
        }
        #expect(outcome[0].contains("queue is full (2 jobs waiting)"))
        #expect(outcome[1] == "waiter parked: true")
        #expect(outcome[2] == "results: 0 1 2 99")
    }

    @Test func cancellingTheCallerResumesItAtOnceAndDropsTheLateResult() async throws {
        let pool = try WorkerPool(threads: 1)
        defer { pool.shutdown() }
        let jobSawCallerLeave = Box(false)
        let jobStarted = Event()
        let loop = try Loop()
        let caller = loop.spawn {
            try await pool.callAsync("long") { context -> Int in
                jobStarted.waitBlocking()
                let until = monotonicNanoseconds() + 2_000_000_000
                while context.isCallerWaiting && monotonicNanoseconds() < until { usleep(1_000) }
                jobSawCallerLeave.value = !context.isCallerWaiting
                return 1
            }
        }
        let elapsed = Box(Duration.zero)
        loop.spawn {
            await Tasklet.yield()
            jobStarted.set()
            try await sleep(for: .milliseconds(20))
            let start = ContinuousClock.now
            caller.cancel()
            _ = try? await caller.value
            elapsed.value = start.duration(to: .now)
        }
        loop.run()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(elapsed.value < .milliseconds(500), "resumed at once, not when the job ended")
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
        let counter = PThreadMutexForTests()
        let gate = Event()
        let callers = (0..<6).map { _ in
            OSThreadForTests.start {
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
        let outcomes = Box<[String]>([])
        let lock = PThreadMutexForTests()
        let blockers = (0..<4).map { _ in
            OSThreadForTests.start {
                do {
                    // Every job blocks, so whichever runs first holds the only thread and the
                    // other three stay queued.
                    _ = try cancelling.call { _ in release.waitBlocking() }
                    lock.withLock { outcomes.value.append("ran") }
                } catch {
                    lock.withLock { outcomes.value.append("\(error)") }
                }
            }
        }
        // One job running (blocked), three queued behind it.
        for _ in 0..<5_000 where !(cancelling.stats.busyThreads == 1 && cancelling.stats.queueDepth == 3) {
            usleep(1_000)
        }
        let releaser = OSThreadForTests.start {
            usleep(20_000)
            release.set()
        }
        cancelling.shutdown(.cancelQueued)
        blockers.forEach { $0.join() }
        releaser.join()
        let seen = lock.withLock { outcomes.value }
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
        let poolReportsLock = PThreadMutexForTests()
        // The pool reports the stalled job itself, and to the calling tasklet's loop watchdog.
        pool.setWatchdog(threshold: .milliseconds(30)) { report in
            poolReportsLock.withLock { poolReports.value.append(report.jobName) }
        }
        let stats = Box<WorkerPoolStats?>(nil)
        loop.spawn(name: "downloader") {
            try await pool.callAsync("stuck download") { _ in release.waitBlocking() }
        }
        loop.spawn {
            while loopReports.value.isEmpty { try await sleep(for: .milliseconds(5)) }
            stats.value = pool.stats
            release.set()
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
            loop.spawn { try await pool.callAsync { _ in gate.waitBlocking(); return index } }
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

/// Small thread helpers (the NetCore test target's are not visible here).
final class OSThreadForTests: @unchecked Sendable {  // `handle` is written before start returns
    private var handle = pthread_t()
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
    static func start(_ body: @escaping @Sendable () -> Void) -> OSThreadForTests {
        let thread = OSThreadForTests()
        pthread_create(&thread.handle, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, Unmanaged.passRetained(Body(body)).toOpaque())
        return thread
    }
    func join() { pthread_join(handle, nil) }
}

final class PThreadMutexForTests: @unchecked Sendable {  // a pthread mutex
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
