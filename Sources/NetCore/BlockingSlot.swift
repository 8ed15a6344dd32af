#if canImport(Glibc)
    import Glibc
#endif

/// A mutex and condition variable owned by one OS thread, made on its first blocking wait and
/// kept until the thread exits: blocking channel calls then cost one small allocation (the
/// `BlockingSlot`), not a mutex and a condition variable each.
final class ThreadParker: @unchecked Sendable {  // the condition lock makes it safe
    /// Its timed waits use CLOCK_MONOTONIC, as every timed wait here.
    let lock = PThreadConditionLock()

    private init() {}

    /// The thread-specific key; its destructor releases a thread's parker when the thread exits.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            if let raw { Unmanaged<ThreadParker>.fromOpaque(raw).release() }
        }
        return key
    }()

    /// The calling thread's parker.
    static var current: ThreadParker {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<ThreadParker>.fromOpaque(raw).takeUnretainedValue()
        }
        let parker = ThreadParker()
        pthread_setspecific(key, Unmanaged.passRetained(parker).toOpaque())
        return parker
    }
}

/// A one-shot hand-off for a plain OS thread that must block until another thread
/// (or a tasklet) delivers a result. Used by the blocking side of channels.
@usableFromInline
final class BlockingSlot<Value>: @unchecked Sendable {  // `result` is guarded by the parker's lock
    private let parker: ThreadParker
    private var result: Result<Value, any Error>?

    /// Makes a slot that the calling thread will wait on.
    @usableFromInline init() {
        parker = ThreadParker.current
    }

    /// Delivers the result and wakes the waiting thread. Called at most once, from any thread.
    @usableFromInline func complete(_ value: Result<Value, any Error>) {
        parker.lock.lock()
        result = value
        parker.lock.signal()
        parker.lock.unlock()
    }

    /// Blocks the calling thread until `complete` has been called or `timeout` passes.
    /// - Returns: the result, or nil on timeout.
    func wait(timeout: Duration) -> Result<Value, any Error>? {
        // The condition's clock; saturating, so that a huge timeout waits "forever" instead of wrapping.
        let (deadline, overflow) = MonotonicClock.nanoseconds().addingReportingOverflow(timeout.nanosecondsClamped)
        let until = overflow ? Int64.max : deadline
        parker.lock.lock()
        defer { parker.lock.unlock() }
        while result == nil {
            if !parker.lock.wait(untilMonotonicNanoseconds: until) { break }
        }
        return result
    }

    /// Blocks the calling thread (the one that made the slot) until `complete` has been called.
    @usableFromInline func wait() throws -> Value {
        parker.lock.lock()
        while result == nil { parker.lock.wait() }
        let value = result!  // the loop above only exits once `result` is set
        parker.lock.unlock()
        return try value.get()
    }
}
