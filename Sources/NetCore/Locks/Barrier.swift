/// A barrier for a fixed number of parties, tasklets or threads: each `wait` parks until all
/// have arrived, then all go on together. A wait that times out breaks the barrier, and every
/// waiter gets `LockError.barrierBroken` until `reset()`. Safe from any thread.
public final class Barrier: @unchecked Sendable {  // the counters are guarded by `waiters.lock`
    /// How many arrivals release the barrier.
    public let parties: Int
    private let waiters = WaitList()
    private var arrived = 0
    private var generation = 0
    private var broken = false
    private var brokenGeneration = -1

    /// A barrier that opens when `parties` waiters (at least 1) have arrived, then resets for the
    /// next round.
    public init(parties: Int) {
        self.parties = max(1, parties)
    }

    /// True after a timeout or `reset()` broke waiting parties, until `reset()`.
    public var isBroken: Bool { waiters.lock.withLock { broken } }

    /// Arrives and parks until all parties have.
    /// - Returns: this arrival's index, 0 ..< parties (the last arrival gets parties - 1).
    /// - Throws: `LockError.barrierBroken`; `CancellationError` (which does not break it).
    @discardableResult
    public func wait(timeout: Duration? = nil) async throws -> Int {
        let (index, myGeneration) = try arrive()
        if index == parties - 1 { return index }
        let released = try await waiters.wait(timeout: timeout) { generation == myGeneration && !broken }
        return try outcome(index: index, generation: myGeneration, timedOut: !released)
    }

    /// The blocking form for plain threads.
    @discardableResult
    public func waitBlocking(timeout: Duration? = nil) throws -> Int {
        let (index, myGeneration) = try arrive()
        if index == parties - 1 { return index }
        let released = waiters.waitBlocking(timeout: timeout) { generation == myGeneration && !broken }
        return try outcome(index: index, generation: myGeneration, timedOut: !released)
    }

    /// Breaks the current round (its waiters get `barrierBroken`) and makes the barrier usable again.
    public func reset() {
        waiters.lock.lock()
        if arrived > 0 { brokenGeneration = generation }
        generation += 1
        arrived = 0
        broken = false
        let wakes = waiters.takeAllLocked()
        waiters.lock.unlock()
        for wake in wakes { wake(false) }
    }

    private func arrive() throws -> (index: Int, generation: Int) {
        waiters.lock.lock()
        if broken {
            waiters.lock.unlock()
            throw LockError.barrierBroken
        }
        let index = arrived
        let myGeneration = generation
        arrived += 1
        guard arrived == parties else {
            waiters.lock.unlock()
            return (index, myGeneration)
        }
        arrived = 0
        generation += 1
        let wakes = waiters.takeAllLocked()
        waiters.lock.unlock()
        for wake in wakes { wake(true) }
        return (index, myGeneration)
    }

    private func outcome(index: Int, generation myGeneration: Int, timedOut: Bool) throws -> Int {
        waiters.lock.lock()
        if brokenGeneration == myGeneration {
            waiters.lock.unlock()
            throw LockError.barrierBroken
        }
        if generation != myGeneration {  // the round completed
            waiters.lock.unlock()
            return index
        }
        // Timed out in an open round: break it for everyone.
        _ = timedOut
        broken = true
        brokenGeneration = myGeneration
        generation += 1
        arrived = 0
        let wakes = waiters.takeAllLocked()
        waiters.lock.unlock()
        for wake in wakes { wake(false) }
        throw LockError.barrierBroken
    }
}
