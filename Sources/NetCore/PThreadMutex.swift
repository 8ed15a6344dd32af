#if canImport(Glibc)
import Glibc
#endif

/// A plain pthread mutex. NetCore uses it instead of `Synchronization.Mutex` because
/// ThreadSanitizer understands pthread mutexes and reports false races on `Mutex`.
/// The mutex lives in its own allocation so that its address never moves.
@usableFromInline
final class PThreadMutex: @unchecked Sendable {  // the pthread mutex itself makes it safe
    @usableFromInline let raw: UnsafeMutablePointer<pthread_mutex_t>

    @usableFromInline init() {
        raw = .allocate(capacity: 1)
        raw.initialize(to: pthread_mutex_t())
        pthread_mutex_init(raw, nil)
    }

    deinit {
        pthread_mutex_destroy(raw)
        raw.deallocate()
    }

    @inlinable @inline(__always) func lock() { pthread_mutex_lock(raw) }
    @inlinable @inline(__always) func unlock() { pthread_mutex_unlock(raw) }

    @inlinable @inline(__always) func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(raw)
        defer { pthread_mutex_unlock(raw) }
        return try body()
    }
}

/// A one-shot hand-off for a plain OS thread that must block until another thread
/// (or a tasklet) delivers a result. Used by the blocking side of channels.
@usableFromInline
final class BlockingSlot<Value>: @unchecked Sendable {  // `result` is guarded by `mutex`
    private let mutex = PThreadMutex()
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var result: Result<Value, any Error>?

    @usableFromInline init() {
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    /// Delivers the result and wakes the waiting thread. Called at most once.
    @usableFromInline func complete(_ value: Result<Value, any Error>) {
        mutex.lock()
        result = value
        pthread_cond_signal(condition)
        mutex.unlock()
    }

    /// Blocks the calling thread until `complete` has been called.
    @usableFromInline func wait() throws -> Value {
        mutex.lock()
        while result == nil { pthread_cond_wait(condition, mutex.raw) }
        let value = result!  // the loop above only exits once `result` is set
        mutex.unlock()
        return try value.get()
    }
}
