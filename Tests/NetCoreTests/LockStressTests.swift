import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct LockStressTests {
    /// Two loops (four tasklets each) and two plain threads hammer one Semaphore(3) and one
    /// Condition-guarded counter. Checks: never more than 3 holders at once, every acquisition
    /// counted, every produced item consumed exactly once.
    @Test func threadsAndLoopsShareASemaphoreAndACondition() throws {
        let rounds = max(50, stressValuesPerThread / 100)
        let semaphore = Semaphore(3)
        let books = PThreadMutex()
        let inside = Box(0)
        let maxInside = Box(0)
        let acquisitions = Box(0)
        @Sendable func enter() {
            books.withLock {
                inside.value += 1
                maxInside.value = max(maxInside.value, inside.value)
                acquisitions.value += 1
            }
        }
        @Sendable func leave() { books.withLock { inside.value -= 1 } }

        let condition = Condition()
        let pending = Box(0)  // guarded by condition.lock
        let consumed = Box(0)  // guarded by condition.lock

        let loops = try (0..<2).map { try Loop(name: "lock-stress-\($0)") }
        for loop in loops {
            loop.disableWatchdog()
            for _ in 0..<4 {
                loop.spawn {
                    for _ in 0..<rounds {
                        try await semaphore.acquire()
                        enter()
                        await Tasklet.yield()  // hold it across a switch
                        leave()
                        semaphore.release()
                        // Produce one item.
                        try await condition.lock.acquire()
                        pending.value += 1
                        condition.notify()
                        try condition.lock.release()
                    }
                }
            }
            // One consumer tasklet per loop.
            loop.spawn {
                for _ in 0..<(4 * rounds) {
                    try await condition.lock.acquire()
                    while pending.value == 0 { try await condition.wait() }
                    pending.value -= 1
                    consumed.value += 1
                    try condition.lock.release()
                }
            }
        }
        let loopThreads = loops.map { runOnThread($0) }
        let workers = (0..<2).map { _ in
            TestThread.start {
                for _ in 0..<rounds {
                    semaphore.acquireBlocking()
                    enter()
                    leave()
                    semaphore.release()
                }
            }
        }
        workers.forEach { $0.join() }
        loopThreads.forEach { $0.join() }
        #expect(books.withLock { maxInside.value } <= 3)
        #expect(books.withLock { acquisitions.value } == (2 * 4 + 2) * rounds)
        #expect(books.withLock { inside.value } == 0)
        #expect(semaphore.value == 3)
        condition.lock.acquireBlocking()
        #expect(consumed.value == 2 * 4 * rounds)
        #expect(pending.value == 0)
        try condition.lock.release()
    }
}
