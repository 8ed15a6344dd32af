import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// A plain OS thread (not a Swift concurrency thread) for tests that mix threads and loops,
/// started through NetCore's `OSThreads` like every thread the project starts.
public final class TestThread: Sendable {
    private let handle: pthread_t

    private init(handle: pthread_t) { self.handle = handle }

    /// Starts one thread that runs `body`, then ends; join it with `join()`.
    ///
    /// A test that cannot start its thread cannot test anything, so a failure stops the test
    /// process with the reason (as the raw `pthread_create` copies this replaces did).
    /// Any thread.
    public static func start(_ body: @escaping @Sendable () -> Void) -> TestThread {
        do {
            return TestThread(handle: try OSThreads.start(body))
        } catch {
            preconditionFailure("pthread_create failed: \(error)")
        }
    }

    /// Waits for the thread to end. Call once, from any other thread.
    public func join() { pthread_join(handle, nil) }
}
