#if canImport(Glibc)
    import Glibc
#endif

/// A mutual-exclusion lock for tasklets and threads (not reentrant: see `RLock`).
///
/// `acquire` parks a tasklet, `acquireBlocking` blocks a plain thread; either may release it.
/// Safe from any thread.
public final class Lock: @unchecked Sendable {  // the semaphore is thread-safe
    /// Bounded at 1, so that releasing an unlocked lock is caught.
    let semaphore = Semaphore(value: 1, bound: 1)

    /// An unlocked lock. Costs one small allocation; starts no thread.
    public init() {}

    /// True while someone holds the lock (a snapshot).
    public var isLocked: Bool { semaphore.value == 0 }

    /// See `Semaphore.acquire(timeout:)`.
    @discardableResult
    public func acquire(timeout: Duration? = nil) async throws -> Bool { try await semaphore.acquire(timeout: timeout) }

    /// See `Semaphore.acquireBlocking(timeout:)`.
    @discardableResult
    public func acquireBlocking(timeout: Duration? = nil) -> Bool { semaphore.acquireBlocking(timeout: timeout) }

    /// Takes the lock if it is free, without waiting. Returns whether it was taken. Any thread.
    public func tryAcquire() -> Bool { semaphore.tryAcquire() }

    /// Releases the lock; the longest waiter gets it next.
    /// - Throws: `LockError.notHeld` if it is not locked.
    public func release() throws {
        do {
            try semaphore.release(count: 1, checked: true)
        } catch {
            throw LockError.notHeld("Lock")
        }
    }

    /// Runs `body` holding the lock (a tasklet parks while it waits for it).
    public func withLock<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { try? release() }
        return try await body()
    }
}

/// Who holds an `RLock`: a tasklet, another task on a loop, or a plain thread.
enum LockOwner: Equatable {
    case tasklet(UInt64)
    case task(UInt)
    case thread(UInt)

    static var current: LockOwner {
        if let loop = Loop.current {
            if let tasklet = Tasklet.currentRoot(on: loop) { return .tasklet(tasklet.id) }
            if let job = loop.runningJob { return .task(UInt(bitPattern: job)) }
        }
        return .thread(UInt(pthread_self()))
    }
}

/// A reentrant lock: its holder may acquire it again, and must release it as many times.
/// The holder is a tasklet (or task) or a plain thread. Safe from any thread.
public final class RLock: @unchecked Sendable {  // `owner` and `depth` are guarded by `state`
    private let semaphore = Semaphore(1)
    private let state = PThreadMutex()
    private var owner: LockOwner?
    private var depth = 0

    /// An unlocked reentrant lock. Costs two small allocations; starts no thread.
    public init() {}

    /// Acquires the lock, or deepens the caller's hold on it.
    /// - Returns: true when held, false on timeout. - Throws: `CancellationError`.
    @discardableResult
    public func acquire(timeout: Duration? = nil) async throws -> Bool {
        let me = LockOwner.current
        if deepenIfOwned(by: me) { return true }
        guard try await semaphore.acquire(timeout: timeout) else { return false }
        take(for: me)
        return true
    }

    /// The blocking form for plain threads. - Returns: true when held, false on timeout.
    @discardableResult
    public func acquireBlocking(timeout: Duration? = nil) -> Bool {
        let me = LockOwner.current
        if deepenIfOwned(by: me) { return true }
        guard semaphore.acquireBlocking(timeout: timeout) else { return false }
        take(for: me)
        return true
    }

    /// Releases one level of the caller's hold; the last release frees the lock.
    /// - Throws: `LockError.notHeld` if the caller does not hold it.
    public func release() throws {
        let me = LockOwner.current
        state.lock()
        guard owner == me, depth > 0 else {
            state.unlock()
            throw LockError.notHeld("RLock")
        }
        depth -= 1
        let freed = depth == 0
        if freed { owner = nil }
        state.unlock()
        if freed { semaphore.release() }
    }

    /// True if the calling tasklet or thread holds the lock.
    public var isHeldByCaller: Bool {
        let me = LockOwner.current
        return state.withLock { owner == me }
    }

    private func deepenIfOwned(by me: LockOwner) -> Bool {
        state.withLock {
            guard owner == me else { return false }
            depth += 1
            return true
        }
    }

    private func take(for me: LockOwner) {
        state.withLock {
            owner = me
            depth = 1
        }
    }
}
