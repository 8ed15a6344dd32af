#if canImport(Glibc)
import Glibc
#endif

/// A plain pthread mutex. NetCore uses it instead of `Synchronization.Mutex` because
/// ThreadSanitizer understands pthread mutexes and reports false races on `Mutex`.
/// The mutex lives in its own allocation so that its address never moves. Public for the
/// modules above NetCore (short critical sections on any thread; never held across a wait).
public final class PThreadMutex: @unchecked Sendable {  // the pthread mutex itself makes it safe
    @usableFromInline let raw: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        raw = .allocate(capacity: 1)
        raw.initialize(to: pthread_mutex_t())
        pthread_mutex_init(raw, nil)
    }

    deinit {
        pthread_mutex_destroy(raw)
        raw.deallocate()
    }

    @inlinable @inline(__always) public func lock() { pthread_mutex_lock(raw) }
    @inlinable @inline(__always) public func unlock() { pthread_mutex_unlock(raw) }

    /// Runs `body` with the mutex held.
    @inlinable @inline(__always) public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(raw)
        defer { pthread_mutex_unlock(raw) }
        return try body()
    }
}

/// A mutex and condition variable owned by one OS thread, made on its first blocking wait and
/// kept until the thread exits: blocking channel calls then cost one small allocation (the
/// `BlockingSlot`), not a mutex and a condition variable each.
final class ThreadParker: @unchecked Sendable {  // `raw` and `condition` are pthread primitives
    let mutex = PThreadMutex()
    let condition: UnsafeMutablePointer<pthread_cond_t>

    private init() {
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Timed waits on CLOCK_MONOTONIC, as every other timed wait here: a wall-clock step
        // (NTP, a user setting the date) must not cut a wait short or stretch it.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

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
final class BlockingSlot<Value>: @unchecked Sendable {  // `result` is guarded by the parker's mutex
    private let parker: ThreadParker
    private var result: Result<Value, any Error>?

    /// Makes a slot that the calling thread will wait on.
    @usableFromInline init() {
        parker = ThreadParker.current
    }

    /// Delivers the result and wakes the waiting thread. Called at most once, from any thread.
    @usableFromInline func complete(_ value: Result<Value, any Error>) {
        parker.mutex.lock()
        result = value
        pthread_cond_signal(parker.condition)
        parker.mutex.unlock()
    }

    /// Blocks the calling thread until `complete` has been called or `timeout` passes.
    /// - Returns: the result, or nil on timeout.
    func wait(timeout: Duration) -> Result<Value, any Error>? {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)  // the condition's clock (ThreadParker.init)
        let total = Int64(now.tv_nsec) + timeout.nanosecondsClamped % 1_000_000_000
        var deadline = timespec(
            tv_sec: now.tv_sec + Int(timeout.nanosecondsClamped / 1_000_000_000) + Int(total / 1_000_000_000),
            tv_nsec: Int(total % 1_000_000_000))
        parker.mutex.lock()
        defer { parker.mutex.unlock() }
        while result == nil {
            if pthread_cond_timedwait(parker.condition, parker.mutex.raw, &deadline) == ETIMEDOUT { break }
        }
        return result
    }

    /// Blocks the calling thread (the one that made the slot) until `complete` has been called.
    @usableFromInline func wait() throws -> Value {
        parker.mutex.lock()
        while result == nil { pthread_cond_wait(parker.condition, parker.mutex.raw) }
        let value = result!  // the loop above only exits once `result` is set
        parker.mutex.unlock()
        return try value.get()
    }
}
