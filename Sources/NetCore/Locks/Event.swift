/// A flag that tasklets and threads wait for: `wait` returns once it is set.
/// Safe from any thread.
public final class Event: @unchecked Sendable {  // `flag` is guarded by `waiters.lock`
    private let waiters = WaitList()
    private var flag = false

    /// An event that is not set: waiters wait until `set()`.
    public init() {}

    /// True once `set()` was called (and `clear()` not since).
    public var isSet: Bool { waiters.lock.withLock { flag } }

    /// Sets the flag and wakes every waiter.
    public func set() {
        waiters.lock.lock()
        flag = true
        let wakes = waiters.takeAllLocked()
        waiters.lock.unlock()
        for wake in wakes { wake(true) }
    }

    /// Clears the flag: later waits park again.
    public func clear() { waiters.lock.withLock { flag = false } }

    /// Parks until the flag is set. - Returns: true when set, false on timeout.
    /// - Throws: `CancellationError`; `WaitTimeoutNeedsLoop` for a timeout outside a tasklet.
    @discardableResult
    public func wait(timeout: Duration? = nil) async throws -> Bool {
        try await waiters.wait(timeout: timeout) { !flag }
    }

    /// Blocks the calling plain thread until the flag is set. - Returns: false on timeout.
    @discardableResult
    public func waitBlocking(timeout: Duration? = nil) -> Bool {
        waiters.waitBlocking(timeout: timeout) { !flag }
    }
}
