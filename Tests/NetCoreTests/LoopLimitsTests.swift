import Synchronization
import TestSupport
import Testing

@testable import NetCore

/// A count shared by threads and tasklets.
private final class Counter: Sendable {
    private let atomic = Atomic<Int>(0)
    func add() { atomic.add(1, ordering: .relaxed) }
    var value: Int { atomic.load(ordering: .relaxed) }
}

/// The caps a game sets on a loop (`LoopLimits`): a tasklet limit that refuses spawns without
/// running them, and queues that give back what a burst grew once they are empty.
@Suite struct LoopLimitsTests {
    /// Pumps until `done()`, failing after `maxFrames`.
    private func pump(_ loop: Loop, maxFrames: Int = 5_000, until done: () -> Bool) throws {
        var frames = 0
        while !done() {
            loop.pump(budget: .milliseconds(5))
            frames += 1
            if frames > maxFrames { throw TestFailure("not done after \(maxFrames) frames: \(loop.stats)") }
        }
    }

    @Test func aSpawnPastTheLimitIsRefusedWithoutRunningAndRoomComesBackWhenTaskletsEnd() throws {
        let loop = try Loop(limits: LoopLimits(maxTasklets: 3))
        let gate = Channel<Int>(capacity: 3)
        let started = Box(0)
        let parked = (0..<3).map { _ in
            loop.spawn {
                started.value += 1
                return try await gate.receive()
            }
        }
        try pump(loop) { loop.stats.taskletsParked == 3 }

        let ran = Box(false)
        let refused = loop.spawn(name: "one-too-many") { ran.value = true }
        #expect(!refused.isAlive, "a refused tasklet has ended at once")
        #expect(refused.name == "one-too-many")
        switch refused.result {
        case .failure(let error as LoopError): #expect(error == .taskletLimitReached(3))
        default: Issue.record("expected LoopError.taskletLimitReached, got \(String(describing: refused.result))")
        }
        #expect(loop.stats.taskletsRefused == 1 && loop.stats.taskletsAlive == 3)
        #expect(loop.stats.jobsReady == 0 && loop.stats.inboxDepth == 0, "a refusal queues nothing")
        let empty = loop.spawn {}  // also refused: the limit counts tasklets, whatever they do
        #expect(loop.stats.taskletsRefused == 2 && !empty.isAlive)

        for value in 1...3 { try gate.sendBlocking(value) }
        try pump(loop) { parked.allSatisfy { !$0.isAlive } }
        #expect(parked.map { (try? $0.result?.get()) ?? 0 }.sorted() == [1, 2, 3])
        #expect(!ran.value, "the refused body never ran")

        // `value` throws the same error to whoever awaits it.
        let awaited = Box<String?>(nil)
        let checker = loop.spawn {
            do {
                _ = try await refused.value
            } catch let error as LoopError {
                awaited.value = error.description
            }
        }
        try pump(loop) { !checker.isAlive }
        #expect(awaited.value?.contains("LoopLimits.maxTasklets") == true, "\(String(describing: awaited.value))")
        #expect(started.value == 3 && loop.stats.taskletsAlive == 0)
        #expect(loop.stats.taskletsRefused == 2, "room came back: the checker was accepted")
    }

    /// From inside a tasklet (the loop's own thread): `spawn` hands back an ended handle whose
    /// `value` throws without waiting, `trySpawn` throws; neither runs its body.
    @Test func insideATaskletSpawnReturnsAnEndedHandleAndTrySpawnThrows() throws {
        let loop = try Loop(limits: LoopLimits(maxTasklets: 1))
        let seen = Box<[String]>([])
        let ran = Box(false)
        loop.spawn(name: "parent") {
            let refused = loop.spawn(name: "child") { ran.value = true }
            seen.value.append("alive \(refused.isAlive)")
            do {
                try await refused.value
            } catch let error as LoopError {
                seen.value.append("value \(error == .taskletLimitReached(1))")
            }
            do throws(LoopError) {
                _ = try loop.trySpawn(name: "child") { ran.value = true }
            } catch {
                seen.value.append("trySpawn \(error == .taskletLimitReached(1))")
            }
        }
        loop.run()
        #expect(seen.value == ["alive false", "value true", "trySpawn true"])
        #expect(!ran.value && loop.stats.taskletsRefused == 2)
        // With the parent gone there is room again.
        let handle = try loop.trySpawn(name: "later") { 42 }
        loop.run()
        #expect(handle.result.map { try? $0.get() } == 42)
    }

    /// Threads race to spawn on one loop: exactly `maxTasklets` get in, every other spawn is
    /// counted refused, and each accepted body runs once.
    @Test func racingSpawnsFromThreadsNeverPassTheLimit() throws {
        let limit = 50
        let loop = try Loop(limits: LoopLimits(maxTasklets: limit))
        let gate = Channel<Int>(capacity: 4 * 200)
        let bodiesRun = Counter()
        let accepted = Counter()
        let threads = (0..<4).map { _ in
            TestThread.start {
                for _ in 0..<200 {
                    let handle = loop.spawn {
                        bodiesRun.add()
                        _ = try await gate.receive()
                    }
                    if handle.isAlive { accepted.add() }
                }
            }
        }
        for thread in threads { thread.join() }
        #expect(accepted.value == limit)
        #expect(loop.stats.taskletsRefused == UInt64(4 * 200 - limit))
        #expect(loop.stats.taskletsAlive == limit)
        try pump(loop) { loop.stats.taskletsParked == limit }
        gate.close()
        try pump(loop) { loop.stats.taskletsAlive == 0 && loop.stats.inboxDepth == 0 && loop.stats.jobsReady == 0 }
        #expect(bodiesRun.value == limit)
    }

    /// 5,000 tasklets handed over from another thread at once fill the inbox and the run queue;
    /// a loop with retained slots gives the storage back when they are empty, a loop without keeps
    /// it, and a loop with the default limits keeps the run queue's and gives the inbox's back.
    @Test(arguments: [false, true])
    func queuesGiveBackABurstWhenEmptyOnlyWhenToldTo(viaRun: Bool) throws {
        let burst = 5_000
        func drive(_ loop: Loop) throws {
            if viaRun {
                loop.run()
            } else {
                try pump(loop) { loop.stats.taskletsAlive == 0 }
                loop.pump(budget: .milliseconds(1))
            }
        }
        let capped = try Loop(limits: LoopLimits(retainedRunQueueSlots: 64, retainedInboxSlots: 32))
        let keeping = try Loop(limits: LoopLimits(retainedInboxSlots: nil))
        let byDefault = try Loop()
        #expect(capped.footprint.runQueueCapacity == 64, "the queue starts at the retained size when it is smaller")
        let counts = Counter()
        for loop in [capped, keeping, byDefault] {
            for _ in 0..<burst { loop.spawn { counts.add() } }
            try drive(loop)
        }
        #expect(counts.value == 3 * burst, "every tasklet ran once")

        let defaults = byDefault.footprint
        #expect(defaults.runQueueCapacity >= burst, "the run queue keeps its burst by default: \(defaults)")
        #expect(
            defaults.inboxHighWater >= burst && defaults.inboxCapacity <= 2 * (LoopLimits.defaultRetainedInboxSlots + 16),
            "the inbox gives its burst back by default: \(defaults)")

        let kept = keeping.footprint
        #expect(kept.runQueueHighWater >= burst && kept.runQueueCapacity >= burst, "\(kept)")
        #expect(kept.inboxHighWater >= burst && kept.inboxCapacity >= burst, "\(kept)")

        let trimmed = capped.footprint
        #expect(trimmed.runQueueHighWater >= burst && trimmed.inboxHighWater >= burst, "the marks show the burst: \(trimmed)")
        #expect(
            trimmed.runQueueCapacity == 64 && trimmed.runQueueBytes < 2 * 64 * MemoryLayout<QueuedJob>.stride + 64,
            "\(trimmed)")
        #expect(trimmed.inboxCapacity <= 2 * 48, "both inbox arrays back near 32 slots: \(trimmed)")
        #expect(trimmed.totalBytes + 100_000 < kept.totalBytes, "\(trimmed.totalBytes) vs \(kept.totalBytes)")
    }

    @Test func limitsBelowOneAreRaisedToOne() {
        let limits = LoopLimits(maxTasklets: 0, retainedRunQueueSlots: -5, retainedInboxSlots: 0)
        #expect(limits.maxTasklets == 1 && limits.retainedRunQueueSlots == 1 && limits.retainedInboxSlots == 1)
        #expect(LoopLimits.unlimited.maxTasklets == .max && LoopLimits.unlimited.retainedRunQueueSlots == nil)
    }
}
