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
    /// The request's sockets: one, or each pending attempt of a Happy Eyeballs race.
    private var descriptors: [Int32] = []
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
            // A socket still connecting fails its handshake at once (the kernel resets it).
            for descriptor in descriptors { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    /// The request now uses `fd` as well (the blocking engine calls this for each connect
    /// attempt and once its connection is open); attaching one twice keeps it once.
    /// - Throws: `CancellationError` if it was already cancelled. Any thread.
    public func attach(_ fd: Int32) throws {
        try mutex.withLock {
            if cancelled { throw CancellationError() }
            if !descriptors.contains(fd) { descriptors.append(fd) }
        }
    }

    /// The request no longer uses `fd` (a connect attempt that lost or failed): call it before
    /// closing `fd`. Any thread.
    public func detach(_ fd: Int32) {
        mutex.withLock { descriptors.removeAll { $0 == fd } }
    }

    /// The request no longer uses its sockets (it went back to the pool, or was closed), so a
    /// late `cancel()` cannot shut down a descriptor that now belongs to someone else. Any thread.
    public func detach() {
        mutex.withLock { descriptors.removeAll() }
    }
}
