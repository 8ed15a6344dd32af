import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct LockTests {
    @Test func lockSerialisesTaskletsThatParkWhileHoldingIt() async throws {
        let loop = try Loop()
        let lock = Lock()
        let log = Box<[String]>([])
        for name in ["a", "b", "c"] {
            loop.spawn {
                try await lock.withLock {
                    log.value.append("\(name) in")
                    try await sleep(for: .milliseconds(2))  // parks while holding the lock
                    log.value.append("\(name) out")
                }
            }
        }
        loop.run()
        #expect(log.value == ["a in", "a out", "b in", "b out", "c in", "c out"])
        #expect(!lock.isLocked)
        #expect(throws: LockError.notHeld("Lock")) { try lock.release() }
    }

    @Test func semaphoreAcquireTimesOutAndCountsStayRight() throws {
        let semaphore = Semaphore(1)
        let results = try runTasklet { () async throws -> [Bool] in
            let first = try await semaphore.acquire()
            let second = try await semaphore.acquire(timeout: .milliseconds(20))
            semaphore.release()
            let third = try await semaphore.acquire(timeout: .milliseconds(20))
            return [first, second, third]
        }
        #expect(results == [true, false, true])
        #expect(semaphore.value == 0)
        #expect(!semaphore.tryAcquire())
        #expect(semaphore.acquireBlocking(timeout: .milliseconds(10)) == false)
    }

    @Test func boundedSemaphoreRefusesAnExtraRelease() throws {
        let semaphore = BoundedSemaphore(2)
        #expect(throws: LockError.releasedTooOften(bound: 2)) { try semaphore.release() }
        #expect(semaphore.tryAcquire())
        try semaphore.release()
        #expect(semaphore.value == 2)
    }

    @Test func rlockIsReentrantForItsHolderOnly() throws {
        let lock = RLock()
        let outcome = try runTasklet { () async throws -> [String] in
            var log: [String] = []
            try await lock.acquire()
            try await lock.acquire()  // the same tasklet again: no deadlock
            log.append("held twice: \(lock.isHeldByCaller)")
            let loop = Loop.current!
            let other = loop.spawn { () async throws -> Bool in
                let got = try await lock.acquire(timeout: .milliseconds(20))  // another tasklet waits
                if got { try lock.release() }
                return got
            }
            log.append("other got it while held: \(try await other.value)")
            try lock.release()
            log.append("still held after one release: \(lock.isHeldByCaller)")
            try lock.release()
            do { try lock.release() } catch { log.append("third release: \(error)") }
            return log
        }
        #expect(
            outcome == [
                "held twice: true", "other got it while held: false", "still held after one release: true",
                "third release: RLock released by a tasklet or thread that does not hold it",
            ])
    }

    @Test func rlockBetweenAThreadAndATasklet() throws {
        let lock = RLock()
        let loop = try Loop()
        #expect(lock.acquireBlocking())
        #expect(lock.acquireBlocking())
        let waited = loop.spawn { () async throws -> Bool in
            let got = try await lock.acquire(timeout: .seconds(5))
            if got { try lock.release() }
            return got
        }
        let thread = runOnThread(loop)
        try lock.release()
        try lock.release()  // now the tasklet may take it
        thread.join()
        #expect(try waited.result?.get() == true)
    }

    @Test func eventReleasesTaskletsOfTwoLoopsAndAThread() throws {
        let event = Event()
        let loops = try (0..<2).map { try Loop(name: "event-\($0)") }
        let woke = Box(0)
        let counter = PThreadMutex()
        for loop in loops {
            for _ in 0..<3 {
                loop.spawn {
                    if try await event.wait() { counter.withLock { woke.value += 1 } }
                }
            }
        }
        let threads = loops.map { runOnThread($0) }
        let blocked = TestThread.start {
            if event.waitBlocking() { counter.withLock { woke.value += 1 } }
        }
        #expect(event.waitBlocking(timeout: .milliseconds(10)) == false)
        event.set()
        threads.forEach { $0.join() }
        blocked.join()
        #expect(counter.withLock { woke.value } == 7)
        #expect(event.isSet)
        event.clear()
        #expect(!event.isSet)
    }

    @Test func conditionHandsWorkFromAThreadToTasklets() throws {
        let condition = Condition()
        let items = Box<[Int]>([])
        let taken = Box<[Int]>([])
        let loop = try Loop()
        for _ in 0..<2 {
            loop.spawn {
                while true {
                    try await condition.lock.acquire()
                    while items.value.isEmpty { try await condition.wait() }
                    let item = items.value.removeFirst()
                    if item >= 0 { taken.value.append(item) }
                    try condition.lock.release()
                    if item < 0 { return }
                }
            }
        }
        let thread = runOnThread(loop)
        for item in [1, 2, 3, 4, 5, -1, -1] {
            condition.lock.acquireBlocking()
            items.value.append(item)
            condition.notify()
            try condition.lock.release()
        }
        thread.join()
        #expect(taken.value.sorted() == [1, 2, 3, 4, 5])
    }

    @Test func conditionWaitTimesOutAndStillHoldsTheLock() throws {
        let condition = Condition()
        let result = try runTasklet { () async throws -> (Bool, Bool) in
            try await condition.lock.acquire()
            let notified = try await condition.wait(timeout: .milliseconds(15))
            let held = condition.lock.isLocked
            try condition.lock.release()
            return (notified, held)
        }
        #expect(result == (false, true))
    }

    @Test func barrierReleasesAllPartiesTogether() throws {
        let barrier = Barrier(parties: 3)
        let loop = try Loop()
        let indices = Box<[Int]>([])
        let lock = PThreadMutex()
        for _ in 0..<2 {
            loop.spawn {
                let index = try await barrier.wait()
                lock.withLock { indices.value.append(index) }
            }
        }
        let thread = runOnThread(loop)
        let mine = try barrier.waitBlocking(timeout: .seconds(5))
        thread.join()
        lock.withLock { indices.value.append(mine) }
        #expect(lock.withLock { indices.value.sorted() } == [0, 1, 2])
    }

    @Test func barrierTimeoutBreaksItForEveryone() throws {
        let barrier = Barrier(parties: 3)
        let errors = try runTasklet { () async throws -> [String] in
            let loop = Loop.current!
            let other = loop.spawn { () async throws -> String in
                do {
                    _ = try await barrier.wait()
                    return "released"
                } catch { return "\(error)" }
            }
            var log: [String] = []
            do { _ = try await barrier.wait(timeout: .milliseconds(20)) } catch { log.append("\(error)") }
            log.append(try await other.value)
            do { _ = try await barrier.wait() } catch { log.append("after: \(error is LockError)") }
            barrier.reset()
            log.append("reset: \(barrier.isBroken)")
            return log
        }
        #expect(errors.count == 4)
        #expect(errors[0].contains("barrier is broken"))
        #expect(errors[1].contains("barrier is broken"))
        #expect(errors[2] == "after: true")
        #expect(errors[3] == "reset: false")
    }

    @Test func cancellingATaskletParkedOnASemaphoreLeavesTheCountIntact() async throws {
        let semaphore = Semaphore(0)
        let loop = try Loop()
        let waiter = loop.spawn { try await semaphore.acquire() }
        loop.spawn {
            await Tasklet.yield()
            waiter.cancel()
        }
        loop.run()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        semaphore.release()
        #expect(semaphore.value == 1, "the cancelled waiter did not swallow the unit")
    }
}
