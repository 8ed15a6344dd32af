import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A test-and-test-and-set lock for critical sections of a few dozen instructions (a channel's
/// queues). Uncontended it is one atomic exchange, against glibc's mutex call with its type
/// checks; a waiter spins briefly, then yields its time slice so that a preempted holder can run.
/// Never held across a wake-up, an allocation-heavy call or a system call. ThreadSanitizer sees
/// it through its atomics.
@usableFromInline
final class SpinLock: @unchecked Sendable {  // the atomic word is the synchronisation
    @usableFromInline let word = Atomic<Bool>(false)

    @usableFromInline init() {}

    @inlinable @inline(__always)
    func lock() {
        if word.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged { return }
        lockSlowly()
    }

    @inlinable @inline(__always)
    func unlock() {
        word.store(false, ordering: .releasing)
    }

    @inlinable @inline(__always)
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    @usableFromInline
    func lockSlowly() {
        var spins = 0
        while true {
            while word.load(ordering: .relaxed) {
                spins += 1
                if spins > 64 {
                    sched_yield()
                    spins = 0
                }
            }
            if word.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged { return }
        }
    }
}
