#if canImport(Glibc)
    import Glibc
#endif

/// Lets another thread stop a blocking request at once: `cancel()` shuts the request's
/// socket down, so a worker blocked in `poll` or `recv` wakes, and the request throws
/// `CancellationError`. (A blocked thread cannot be interrupted any other way; without this a
/// cancelled `engine: .workers` download would hold its worker until the idle timeout.)
/// Safe from any thread.
public final class BlockingCancellation: @unchecked Sendable {  // state guarded by `mutex`
    private let mutex = PThreadMutex()
    private var descriptor: Int32 = -1
    private var cancelled = false

    /// A request that has not been cancelled and uses no socket yet.
    public init() {}

    /// True once `cancel()` has been called.
    public var isCancelled: Bool { mutex.withLock { cancelled } }

    /// Stops the request: its socket (if it has one yet) is shut down; later steps throw.
    public func cancel() {
        mutex.withLock {
            cancelled = true
            // Under the lock: `detach` takes it before the descriptor can be closed and reused.
            if descriptor >= 0 { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    /// The request now uses `fd` (the blocking engine calls this once its connection is open).
    /// - Throws: `CancellationError` if it was already cancelled. Any thread.
    public func attach(_ fd: Int32) throws {
        try mutex.withLock {
            if cancelled { throw CancellationError() }
            descriptor = fd
        }
    }

    /// The request no longer uses its socket (it went back to the pool, or was closed), so a
    /// late `cancel()` cannot shut down a descriptor that now belongs to someone else. Any thread.
    public func detach() {
        mutex.withLock { descriptor = -1 }
    }
}
