/// A condition variable over a `Lock`, for tasklets and threads: `wait` releases the lock,
/// parks (or blocks) until `notify`, and takes the lock again before returning.
///
/// Call `wait`, `notify` and `notifyAll` while holding `lock`, as with any condition variable,
/// and re-check the awaited state after `wait` returns. Safe from any thread.
public final class Condition: @unchecked Sendable {  // the wait list and lock are thread-safe
    /// The lock this condition releases while waiting.
    public let lock: Lock
    private let waiters = WaitList()

    /// A condition over `lock` (a new lock by default), which its waiters must hold.
    public init(lock: Lock = Lock()) {
        self.lock = lock
    }

    /// Releases `lock`, parks until notified (or the timeout), then re-takes `lock`.
    /// - Returns: true if notified, false on timeout. `lock` is held again in every case,
    ///   including when the wait throws.
    /// - Throws: `CancellationError`; `WaitTimeoutNeedsLoop` for a timeout outside a tasklet.
    @discardableResult
    public func wait(timeout: Duration? = nil) async throws -> Bool {
        var released = false
        let outcome: Result<Bool, any Error>
        do {
            outcome = .success(
                try await waiters.wait(
                    timeout: timeout,
                    afterQueued: {
                        released = true
                        try? self.lock.release()
                    }
                ) { true })
        } catch {
            outcome = .failure(error)
        }
        if released {
            // Re-take the lock even when the wait was cancelled: the caller expects to hold it.
            _ = try await lock.semaphore.waiters.wait(timeout: nil, cancellable: false) {
                lock.semaphore.takeOrWaitLocked()
            }
        }
        return try outcome.get()
    }

    /// The blocking form for plain threads. - Returns: true if notified, false on timeout.
    @discardableResult
    public func waitBlocking(timeout: Duration? = nil) -> Bool {
        let notified = waiters.waitBlocking(timeout: timeout, afterQueued: { try? self.lock.release() }) { true }
        lock.acquireBlocking()
        return notified
    }

    /// Wakes up to `count` waiters (longest waiting first).
    public func notify(_ count: Int = 1) {
        waiters.lock.lock()
        var wakes: [(Bool) -> Void] = []
        for _ in 0..<max(0, count) {
            guard let wake = waiters.takeFirstLocked() else { break }
            wakes.append(wake)
        }
        waiters.lock.unlock()
        for wake in wakes { wake(true) }
    }

    /// Wakes every waiter.
    public func notifyAll() {
        waiters.lock.lock()
        let wakes = waiters.takeAllLocked()
        waiters.lock.unlock()
        for wake in wakes { wake(true) }
    }

    /// Waiters parked or blocked on this condition now.
    public var waiting: Int { waiters.lock.withLock { waiters.count } }
}
