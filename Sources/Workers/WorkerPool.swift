import NetCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What `callAsync` does when the pool's queue is full.
public enum WhenQueueFull: Sendable {
    /// Park the calling tasklet (block the calling thread) until a place frees up.
    case wait
    /// Throw `WorkerPoolError.queueFull` at once.
    case fail
}

/// What `shutdown` does with jobs still queued.
public enum ShutdownMode: Sendable {
    /// Run every queued job, then stop.
    case drain
    /// Fail every queued job's caller with `WorkerPoolError.shutDown`; running jobs finish.
    case cancelQueued
}

/// Errors from the pool itself (a job's own errors are rethrown as they are).
public enum WorkerPoolError: Error, Equatable, CustomStringConvertible {
    /// The queue held `capacity` jobs and the caller chose `.fail`.
    case queueFull(capacity: Int)
    /// The pool was shut down before the job could run.
    case shutDown(pool: String)
    /// The pool could not start its threads.
    case threadStartFailed(errno: Int32)
    /// The pool's threads could not be placed on the CPUs given to `init(cpus:)`; no thread was
    /// left running.
    case placementFailed(CPUPlacementError)

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .queueFull(let capacity):
            return "the worker pool's queue is full (\(capacity) jobs waiting); retry later, or call with whenFull: .wait"
        case .shutDown(let pool):
            return "worker pool '\(pool)' is shut down; the job did not run"
        case .threadStartFailed(let code):
            return "could not start a worker thread (errno \(code)); lower the thread count or stack size"
        case .placementFailed(let error):
            return "could not place the worker threads: \(error)"
        }
    }
}

/// A pool of plain OS threads for work that can only block: a blocking HTTP library,
/// `getaddrinfo`, disk writes, a third-party SDK.
///
/// `try await pool.callAsync { ... }` hands the closure to a worker thread while the calling
/// tasklet parks (its loop keeps running everything else), and returns the closure's value or
/// rethrows its error in the tasklet. Results travel back through the tasklet's loop inbox and
/// wake the loop with `ev_async`; results that arrive together share one wake-up.
///
/// Threads: `init` starts exactly `threads` worker threads (named "NAME-0", "NAME-1", ...) and
/// no other; `setWatchdog` adds one monitor thread ("NAME-watch") for as long as the pool runs.
/// They live until `shutdown()`, which joins them: a pool that is no longer needed must be
/// shut down. All methods are safe from any thread.
public final class WorkerPool: @unchecked Sendable {  // shared state behind pthread locks and atomics, see the type comment
    // @unchecked: the queue, counters and per-worker slots are guarded by `lock`; the rest are
    // constants or thread-safe (`places`).
    /// The pool's name: its threads are named after it, and reports carry it.
    public let name: String
    /// The number of worker threads.
    public let threadCount: Int
    /// The most jobs that may wait in the queue.
    public let maxQueued: Int
    /// Each worker thread's stack size, in bytes.
    public let stackSize: Int
    /// The CPUs the pool's threads run on, or nil where the system places them (see `init`).
    public let cpus: [Int]?

    private let lock = PThreadConditionLock()
    private let places: NetCore.Semaphore
    private var incoming: [any CallerState] = []
    /// Jobs queued and not yet taken; read without the lock by spinning workers.
    private let pendingCount = Atomic<Int>(0)
    private let spinning = Atomic<Bool>(false)
    private let spinBeforeSleepNanoseconds: Int64
    private var outgoing: [any CallerState] = []  // reversed: popLast() is the oldest job
    private var stopping: ShutdownMode?
    private var workerThreads: [pthread_t] = []
    private var running: [RunningJob?]
    private var completed: UInt64 = 0
    private var failed: UInt64 = 0
    private var dropped: UInt64 = 0
    private var joined = false
    /// Kernel thread ids of the workers, for tests that check the threads are gone after shutdown.
    private var startedThreadIDs: [Int32] = []
    var kernelThreadIDs: [Int32] { lock.withLock { startedThreadIDs } }
    private let watchdog = PoolWatchdog()

    struct RunningJob {
        let name: String
        let startedAt: Int64
        let request: any CallerState
    }

    /// Starts the pool's worker threads: `threads` of them (at least 1), nothing else (the
    /// watchdog is opt-in, see `setWatchdog`).
    /// - Parameters:
    ///   - threads: worker threads (at least 1).
    ///   - maxQueued: jobs that may wait for a thread; beyond that, callers wait or fail.
    ///   - stackSize: bytes of stack per thread (raised to the system minimum if lower).
    ///   - name: shown in errors and watchdog reports.
    ///   - spinBeforeSleep: how long an idle worker watches the queue before sleeping; saves a
    ///     futex wake-up per call when calls come back to back. Zero never spins.
    ///   - cpus: the CPUs the pool's threads (workers and watchdog) may run on, set before each
    ///     thread starts; nil lets them run wherever the calling thread may. Use it to keep the
    ///     workers off a core reserved for a game thread: otherwise the scheduler tends to wake a
    ///     worker on the core of the thread that handed it a job, and the game thread waits for
    ///     that core in the middle of its frame although another core is idle.
    /// - Throws: `WorkerPoolError.threadStartFailed`; `WorkerPoolError.placementFailed` for an
    ///   empty set, a CPU number out of range, or a set the kernel refuses (no CPU of it online
    ///   and allowed). On a throw no thread of the pool is left running.
    /// May be called from any thread.
    public init(
        threads: Int = 4, maxQueued: Int = 1024, stackSize: Int = 512 << 10, name: String = "workers",
        spinBeforeSleep: Duration = .microseconds(50), cpus: [Int]? = nil
    ) throws {
        self.name = name
        let spin = spinBeforeSleep.components
        spinBeforeSleepNanoseconds = max(0, spin.seconds * 1_000_000_000 + spin.attoseconds / 1_000_000_000)
        threadCount = max(1, threads)
        self.maxQueued = max(1, maxQueued)
        self.stackSize = max(stackSize, Int(PTHREAD_STACK_MIN))
        self.cpus = cpus
        places = NetCore.Semaphore(self.maxQueued)
        running = Array(repeating: nil, count: threadCount)
        if let cpus {
            do { try CPUPlacement.validate(cpus) } catch { throw WorkerPoolError.placementFailed(error) }
        }
        for index in 0..<threadCount {
            do {
                workerThreads.append(try startWorker(index: index))
            } catch {
                shutdown(.cancelQueued)
                throw error
            }
        }
    }

    // MARK: - Calling

    /// Runs `job` on a worker thread while the calling tasklet parks; returns its value.
    /// - Parameters:
    ///   - name: shown in stats and watchdog reports.
    ///   - whenFull: wait for a queue place, or fail at once.
    ///   - job: runs on a worker thread; it cannot be interrupted, but can check
    ///     `context.isCallerWaiting` and stop early once nobody wants its result.
    /// - Throws: whatever `job` throws; `CancellationError` at once if the tasklet is cancelled
    ///   (the job runs on to its end and its result is dropped); `WorkerPoolError`.
    public func callAsync<Value: Sendable>(
        _ name: String = "job", whenFull: WhenQueueFull = .wait,
        _ job: @escaping @Sendable (JobContext) throws -> Value
    ) async throws -> Value {
        try checkRunning()
        switch whenFull {
        case .wait: try await places.acquire()
        case .fail: guard places.tryAcquire() else { throw WorkerPoolError.queueFull(capacity: maxQueued) }
        }
        let request = WorkerRequest(name: name, job: job)
        var queued = false
        do {
            return try await parkUntilResumed(onCancel: { request.abandon(CancellationError()) }) { continuation in
                request.deliver(to: .tasklet(continuation))
                queued = true
                push(request)
            }
        } catch {
            if !queued { places.release() }  // cancelled before it was queued: give the place back
            throw error
        }
    }

    /// The same call from a plain thread: blocks the thread until the job has run.
    /// - Throws: as `callAsync`. Must not be called on a loop's thread (use `callAsync`).
    public func call<Value: Sendable>(
        _ name: String = "job", whenFull: WhenQueueFull = .wait,
        _ job: @escaping @Sendable (JobContext) throws -> Value
    ) throws -> Value {
        precondition(Loop.current == nil, "WorkerPool.call blocks; on a loop's thread use callAsync")
        try checkRunning()
        switch whenFull {
        case .wait: places.acquireBlocking()
        case .fail: guard places.tryAcquire() else { throw WorkerPoolError.queueFull(capacity: maxQueued) }
        }
        let request = WorkerRequest(name: name, job: job)
        let result = Channel<Result<Value, any Error>>(capacity: 1)
        request.deliver(to: .thread(result))
        push(request)
        return try result.receiveBlocking().get()
    }

    private func checkRunning() throws {
        if lock.withLock({ stopping != nil }) { throw WorkerPoolError.shutDown(pool: name) }
    }

    private func push(_ request: any CallerState) {
        lock.lock()
        guard stopping == nil else {
            lock.unlock()
            places.release()
            request.fail(WorkerPoolError.shutDown(pool: name))
            return
        }
        incoming.append(request)
        pendingCount.add(1, ordering: .relaxed)
        lock.signal()
        lock.unlock()
    }

    // MARK: - Workers

    private func startWorker(index: Int) throws -> pthread_t {
        do {
            return try OSThreads.start(stackSize: stackSize, cpus: cpus) { [self] in work(index: index) }
        } catch {
            switch error {
            case .placement(let placement): throw WorkerPoolError.placementFailed(placement)
            case .failed(let code): throw WorkerPoolError.threadStartFailed(errno: code)
            }
        }
    }

    /// A worker thread's loop: take the oldest job, run it, repeat until shut down.
    private func work(index: Int) {
        ThreadIdentity.setName("\(name)-\(index)")  // only a label for top -H and gdb: a refusal changes nothing
        let tid = ThreadIdentity.kernelID
        lock.withLock { startedThreadIDs.append(tid) }
        while let request = nextJob(worker: index) {
            places.release()  // its queue place is free again
            request.run { outcome in
                lock.withLock {
                    running[index] = nil
                    switch outcome {
                    case .delivered: completed += 1
                    case .threw:
                        completed += 1
                        failed += 1
                    case .droppedLate, .skipped: dropped += 1
                    }
                }
            }
        }
    }

    private func nextJob(worker index: Int) -> (any CallerState)? {
        lock.lock()
        defer { lock.unlock() }
        var spun = false
        while true {
            if outgoing.isEmpty && !incoming.isEmpty {
                outgoing = incoming.reversed()
                incoming.removeAll(keepingCapacity: true)
            }
            if let request = outgoing.popLast() {
                pendingCount.subtract(1, ordering: .relaxed)
                running[index] = RunningJob(name: request.name, startedAt: MonotonicClock.nanoseconds(), request: request)
                return request
            }
            if stopping != nil { return nil }
            // Before sleeping on the condition (a futex wake-up for the next submitter, tens of
            // microseconds here), watch the queue for a little while: back-to-back calls from a
            // tasklet then find a worker awake.
            // Either way, look at the queue and `stopping` again before sleeping: a shutdown's
            // broadcast may have come while this worker was not waiting on the condition.
            if spinBeforeSleepNanoseconds > 0 && !spun {
                spun = true
                _ = spinForWork()
                continue
            }
            lock.wait()
        }
    }

    /// Watches the queue, unlocked, for up to `spinBeforeSleepNanoseconds`; true if work came.
    /// Called and returns with `lock` held.
    private func spinForWork() -> Bool {
        // One spinner at a time: on a small machine, idle workers spinning together would take
        // the cores the loop needs.
        guard spinning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        lock.unlock()
        defer {
            spinning.store(false, ordering: .releasing)
            lock.lock()
        }
        let until = MonotonicClock.nanoseconds() + spinBeforeSleepNanoseconds
        repeat {
            if pendingCount.load(ordering: .relaxed) > 0 { return true }
            sched_yield()
        } while MonotonicClock.nanoseconds() < until
        return false
    }

    // MARK: - Shutting down

    /// Stops the pool and joins its threads. Blocks the calling thread until running jobs (and,
    /// with `.drain`, queued ones) have finished. Calls made afterwards throw
    /// `WorkerPoolError.shutDown`. Idempotent. Do not call it from a worker's own job.
    public func shutdown(_ mode: ShutdownMode = .drain) {
        lock.lock()
        if stopping == nil { stopping = mode }
        var cancelled: [any CallerState] = []
        if mode == .cancelQueued {
            cancelled = outgoing.reversed() + incoming
            outgoing.removeAll()
            incoming.removeAll()
            pendingCount.store(0, ordering: .relaxed)
        }
        lock.broadcast()
        let toJoin = joined ? [] : workerThreads
        joined = true
        lock.unlock()
        for request in cancelled {
            places.release()
            request.fail(WorkerPoolError.shutDown(pool: name))
        }
        for thread in toJoin { pthread_join(thread, nil) }
        watchdog.stop()
    }

    // MARK: - Stats and watchdog

    /// A snapshot of what the pool is doing.
    public var stats: WorkerPoolStats {
        let now = MonotonicClock.nanoseconds()
        return lock.withLock {
            let busy = running.compactMap { $0 }
            let longest = busy.min { $0.startedAt < $1.startedAt }
            return WorkerPoolStats(
                threads: joined ? 0 : threadCount, busyThreads: busy.count,
                queueDepth: incoming.count + outgoing.count,
                longestRunning: longest.map { ($0.name, Duration.nanoseconds(now - $0.startedAt)) },
                completed: completed, failed: failed, droppedResults: dropped)
        }
    }

    /// Reports jobs that run longer than `threshold`, once each: to `report` (on the pool's
    /// monitor thread), and, when the job was called from a tasklet, to that tasklet's loop
    /// watchdog (`WatchdogReport.workerJob` names the job; it arrives on the loop's thread).
    ///
    /// Off until called (no thread the caller did not ask for): the first call starts one
    /// monitor thread, on the pool's `cpus`; calling again replaces it (stops the old thread,
    /// starts a new one); `shutdown()` stops it.
    /// - Returns: false when the monitor thread could not start (EAGAIN, or the CPUs were
    ///   refused): the pool then runs on without a watchdog.
    /// Any thread but the pool's own workers.
    @discardableResult
    public func setWatchdog(
        threshold: Duration, report: @escaping @Sendable (WorkerJobReport) -> Void = WorkerPool.logToStandardError
    ) -> Bool {
        watchdog.start(threshold: threshold, poolName: name, cpus: cpus, report: report) { [weak self] in
            guard let self else { return [] }
            let now = MonotonicClock.nanoseconds()
            return self.lock.withLock {
                self.running.compactMap { $0 }.map {
                    PoolWatchdog.Job(
                        name: $0.name, runningNs: now - $0.startedAt, startedAt: $0.startedAt,
                        caller: $0.request.caller)
                }
            }
        }
    }

    /// The default report: one line on standard error.
    public static let logToStandardError: @Sendable (WorkerJobReport) -> Void = { report in
        var line = "netcore workers: \(report)\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}

/// A snapshot of a pool's counters.
public struct WorkerPoolStats: Sendable {
    /// Live worker threads (0 after shutdown).
    public var threads: Int
    /// Threads running a job now.
    public var busyThreads: Int
    /// Jobs waiting for a thread.
    public var queueDepth: Int
    /// The job that has been running longest, and for how long.
    public var longestRunning: (name: String, running: Duration)?
    /// Jobs that ran to the end (including those that threw).
    public var completed: UInt64
    /// Jobs that threw.
    public var failed: UInt64
    /// Jobs whose caller left (cancelled) before they ended: their results were dropped.
    public var droppedResults: UInt64
}

/// A worker job that has run longer than the pool's watchdog threshold.
public struct WorkerJobReport: Sendable, CustomStringConvertible {
    /// The pool the job runs on.
    public var poolName: String
    /// The name its caller gave the job (`callAsync("name") { ... }`).
    public var jobName: String
    /// How long it has run so far.
    public var running: Duration
    /// The pool's watchdog threshold.
    public var threshold: Duration

    /// The report on one line, for logs.
    public var description: String {
        "worker pool '\(poolName)': job '\(jobName)' has run for \(running) (threshold \(threshold)); it may be blocked"
    }
}
