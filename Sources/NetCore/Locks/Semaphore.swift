/// A counting semaphore for tasklets and threads, after stacklesslib.locks.
///
/// `acquire` parks a tasklet (its loop runs others); `acquireBlocking` blocks a plain thread.
/// The same semaphore works between tasklets of one loop, of different loops, and threads.
/// Waiters are served first come, first served. All methods are safe from any thread.
public final class Semaphore: @unchecked Sendable {  // `available` is guarded by `waiters.lock`
    let waiters = WaitList()
    private var available: Int
    private let bound: Int?

    /// - Parameter value: the initial count (negative values are treated as 0).
    public init(_ value: Int = 1) {
        available = max(0, value)
        bound = nil
    }

    init(value: Int, bound: Int) {
        available = max(0, value)
        self.bound = bound
    }

    /// The count now (a snapshot).
    public var value: Int { waiters.lock.withLock { available } }

    /// Takes one unit, parking until one is free.
    /// - Parameter timeout: the longest to wait; nil waits forever.
    /// - Returns: true when acquired, false on timeout.
    /// - Throws: `CancellationError`; `WaitTimeoutNeedsLoop` for a timeout outside a tasklet.
    @discardableResult
    public func acquire(timeout: Duration? = nil) async throws -> Bool {
        try await waiters.wait(timeout: timeout, takeOrWait)
    }

    /// Takes one unit, blocking the calling plain thread until one is free.
    /// - Returns: true when acquired, false on timeout. Not on a loop's thread.
    @discardableResult
    public func acquireBlocking(timeout: Duration? = nil) -> Bool {
        waiters.waitBlocking(timeout: timeout, takeOrWait)
    }

    /// Takes one unit if one is free, without waiting.
    public func tryAcquire() -> Bool {
        waiters.lock.withLock { !takeOrWait() }
    }

    /// Returns `count` units; each goes straight to the longest waiter, if any.
    public func release(_ count: Int = 1) {
        try? release(count: count, checked: false)
    }

    func release(count: Int, checked: Bool) throws {
        var wakes: [(Bool) -> Void] = []
        waiters.lock.lock()
        if checked, let bound, available + count > bound {
            waiters.lock.unlock()
            throw LockError.releasedTooOften(bound: bound)
        }
        for _ in 0..<max(0, count) {
            if let wake = waiters.takeFirstLocked() { wakes.append(wake) } else { available += 1 }
        }
        waiters.lock.unlock()
        for wake in wakes { wake(true) }
    }

    /// Under the lock: takes a unit if there is one (no wait) or says the caller must wait.
    func takeOrWaitLocked() -> Bool { takeOrWait() }

    private func takeOrWait() -> Bool {
        guard available > 0 else { return true }
        available -= 1
        return false
    }
}

/// A semaphore that refuses to be released above its initial value (which catches a release
/// without a matching acquire).
public final class BoundedSemaphore: @unchecked Sendable {  // the wrapped Semaphore is thread-safe
    private let semaphore: Semaphore
    /// The initial value, which `release` may not exceed.
    public let bound: Int

    /// A semaphore whose value starts at `value` (at least 0), which is also its bound.
    public init(_ value: Int = 1) {
        bound = max(0, value)
        semaphore = Semaphore(value: value, bound: bound)
    }

    /// The current value: how many `acquire`s would succeed now without waiting. A snapshot.
    public var value: Int { semaphore.value }

    /// See `Semaphore.acquire(timeout:)`.
    @discardableResult
    public func acquire(timeout: Duration? = nil) async throws -> Bool { try await semaphore.acquire(timeout: timeout) }

    /// See `Semaphore.acquireBlocking(timeout:)`.
    @discardableResult
    public func acquireBlocking(timeout: Duration? = nil) -> Bool { semaphore.acquireBlocking(timeout: timeout) }

    /// Takes one unit if the value is above zero, without waiting. Returns whether it did. Any thread.
    public func tryAcquire() -> Bool { semaphore.tryAcquire() }

    /// Returns one unit.
    /// - Throws: `LockError.releasedTooOften` if that would exceed the bound (nothing changes).
    public func release() throws { try semaphore.release(count: 1, checked: true) }
}
