#if canImport(Glibc)
    import Glibc
#endif

/// A plain pthread mutex: the project's one lock for short critical sections (a channel's
/// queues, a wait list, a loop's inbox, the pools' books). Used instead of
/// `Synchronization.Mutex` because ThreadSanitizer understands pthread mutexes and reports false
/// races on `Mutex`; instead of a spin lock because the spin lock did not win the contended
/// hand-off benchmarks ("contended channel hand-off, 4 thread(s) -> 1 tasklet, ...", Benchmarks/;
/// 2 cores, median of 8 rounds: 3.2 us a message against this mutex's 2.2 us with capacity 64),
/// and on 2 cores a spinning waiter can take the very time slice that a preempted holder needs.
/// The mutex lives in its own allocation so that its address never moves. Public for the
/// modules above NetCore. Any thread; never held across a wait. Uncontended, one
/// `pthread_mutex_lock`/`unlock` pair (no system call); contended, a futex wait.
public final class PThreadMutex: @unchecked Sendable {  // the pthread mutex itself makes it safe
    @usableFromInline let raw: UnsafeMutablePointer<pthread_mutex_t>

    /// An unlocked mutex (default attributes: not recursive). One allocation.
    public init() {
        raw = .allocate(capacity: 1)
        raw.initialize(to: pthread_mutex_t())
        pthread_mutex_init(raw, nil)
    }

    deinit {
        pthread_mutex_destroy(raw)
        raw.deallocate()
    }

    /// Locks the mutex, blocking the calling thread while another holds it.
    @inlinable @inline(__always) public func lock() { pthread_mutex_lock(raw) }
    /// Unlocks the mutex; the calling thread must hold it.
    @inlinable @inline(__always) public func unlock() { pthread_mutex_unlock(raw) }

    /// Runs `body` with the mutex held.
    @inlinable @inline(__always) public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(raw)
        defer { pthread_mutex_unlock(raw) }
        return try body()
    }
}

/// A pthread mutex with one condition variable, whose timed waits use `CLOCK_MONOTONIC`
/// (`pthread_condattr_setclock`): a wall-clock step (NTP, a user setting the date) must not cut
/// a wait short or stretch it. The one blocking mutex/condition pair of the project: worker
/// pools sleep on it, threads blocked on a channel or a wait list (`BlockingSlot`) too.
///
/// Call `wait`, `signal` and `broadcast` holding the lock. Any thread; never on a loop's thread
/// for longer than a short critical section. Costs one allocation for the pair, made at `init`.
public final class PThreadConditionLock: @unchecked Sendable {  // the pthread primitives make it safe
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let condition: UnsafeMutablePointer<pthread_cond_t>
    /// One allocation for both, so that their addresses never move.
    private let storage: UnsafeMutableRawPointer

    /// An unlocked mutex and its condition variable (on `CLOCK_MONOTONIC`, for timed waits).
    public init() {
        let mutexSize = (MemoryLayout<pthread_mutex_t>.stride + 15) & ~15
        storage = .allocate(byteCount: mutexSize + MemoryLayout<pthread_cond_t>.stride, alignment: 16)
        mutex = storage.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = (storage + mutexSize).bindMemory(to: pthread_cond_t.self, capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        storage.deallocate()
    }

    /// Locks the mutex, blocking the calling thread while another holds it.
    @inlinable @inline(__always) public func lock() { pthread_mutex_lock(mutex) }
    /// Unlocks the mutex; the calling thread must hold it.
    @inlinable @inline(__always) public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` with the lock held.
    @inlinable @inline(__always) public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Releases the lock, sleeps until signalled (or spuriously), takes the lock again.
    /// The caller holds the lock and re-checks what it waits for.
    @inlinable public func wait() { pthread_cond_wait(condition, mutex) }

    /// As `wait()`, but gives up at `deadline` (`MonotonicClock.nanoseconds()` time).
    /// - Returns: false when the deadline passed, true when woken (maybe spuriously).
    public func wait(untilMonotonicNanoseconds deadline: Int64) -> Bool {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &time) != ETIMEDOUT
    }

    /// Wakes one waiter. Call holding the lock.
    @inlinable public func signal() { pthread_cond_signal(condition) }
    /// Wakes every waiter. Call holding the lock.
    @inlinable public func broadcast() { pthread_cond_broadcast(condition) }
}
