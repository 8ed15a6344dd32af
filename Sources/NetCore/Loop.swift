import CLibev
import CLibevShim
import CLinuxShim
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Errors from creating or driving a loop.
public enum LoopError: Error, CustomStringConvertible, Equatable {
    /// libev could not create a loop with the requested backend on this system.
    case backendUnavailable(LoopBackend)
    /// A socket or timer call was made on a thread that is not running a loop.
    case notOnLoopThread(String)
    /// `spawn` found `LoopLimits.maxTasklets` tasklets alive; the body did not run.
    case taskletLimitReached(Int)

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .backendUnavailable(let backend):
            return "libev cannot create a loop with the \(backend) backend on this system"
        case .notOnLoopThread(let operation):
            return "\(operation) must be called from a tasklet running on a Loop (Loop.current is nil)"
        case .taskletLimitReached(let limit):
            return "the loop already has \(limit) tasklets alive (LoopLimits.maxTasklets); the tasklet was not started"
        }
    }
}

/// What other threads hand to a loop: a job to run, or a call to make on the loop's thread
/// (resuming a parked continuation there, where its task's memory is warm in cache).
enum InboxItem {
    case job(QueuedJob)
    case call(@Sendable () -> Void)
}

/// A job waiting to run, with the executor it was enqueued on (see `LoopTaskExecutor`).
///
/// One word: the job's address with `serial` in its low bit (a job is a heap or task-allocator
/// object, so at least 8-byte aligned). The run queue holds one per ready job and keeps its
/// high-water capacity, so every tasklet of a burst pays a slot: 8 B instead of 16.
struct QueuedJob {
    private let bits: UInt

    init(job: UnownedJob, serial: Bool) {
        bits = UInt(bitPattern: unsafeBitCast(job, to: UnsafeRawPointer.self)) | (serial ? 1 : 0)
    }

    var job: UnownedJob {
        // The address was a job's, so it is not null.
        unsafeBitCast(UnsafeRawPointer(bitPattern: bits & ~1)!, to: UnownedJob.self)
    }

    var serial: Bool { bits & 1 != 0 }
}

/// One libev event loop, driven by one OS thread at a time, that runs tasklets.
///
/// Tasklets are Swift tasks whose executor preference is this loop: every job of theirs runs on
/// the thread inside `run()` or `pump(budget:)`. Jobs enqueued from that thread go on a plain
/// run queue; jobs from any other thread go into a locked inbox and wake the loop with
/// `ev_async_send` (one wake-up per batch, not per job).
///
/// Thread rules: `spawn`, `stop()` and enqueueing may happen from any thread. `run()`,
/// `pump(budget:)` and `stats` belong to the thread that drives the loop.
public final class Loop: @unchecked Sendable {
    // Safety of @unchecked: `ev`, `hot` and the tasklet registry are touched only on the
    // thread inside run()/pump(); `inbox` is guarded by `inboxLock`; the rest are atomics or lets.

    /// A name used in watchdog reports and errors.
    public let name: String
    /// The backend libev actually chose.
    public let backend: LoopBackend

    let ev: OpaquePointer
    private let wakeupWatcher: UnsafeMutablePointer<ev_async>

    /// Loop-thread state touched on every job. Behind a pointer rather than in stored properties:
    /// only the loop's thread touches it, and stored properties would cost a dynamic exclusivity
    /// check per access on the hottest path.
    private let hot: UnsafeMutablePointer<HotState>

    private struct HotState: ~Copyable {
        var runQueue: RingBuffer<QueuedJob>
        /// The most jobs ever ready at once (for `footprint`).
        var runQueueHighWater = 0
        var jobsRun: UInt64 = 0
        /// Socket readiness and timer expiries handled (libev watcher callbacks).
        var watcherEvents: UInt64 = 0
        var parkedTasklets = 0
        var activeWatchers = 0
        var tasklets = TaskletTable()
        /// The job being run, which for a task's job is the task itself: lets parks find their
        /// tasklet without asking the runtime for the current task.
        var runningJob: UnsafeRawPointer?
        /// True from an `ev_now_update` until the next job, inbox drain or poll: timer starts in
        /// between share that one clock read instead of each making its own.
        var clockIsFresh = false
        /// `ev_now_update` calls made by timer starts (for tests: one per batch, not per start).
        var clockUpdates: UInt64 = 0

        init(runQueueSlots: Int) { runQueue = RingBuffer(capacity: runQueueSlots) }
    }
    private let inboxLock = PThreadMutex()
    private var inbox: [InboxItem] = []  // guarded by inboxLock
    private var inboxHighWater = 0  // guarded by inboxLock
    private var drained: [InboxItem] = []  // loop thread only: swapped with `inbox`
    private var trimmedInboxCapacity = 0  // loop thread only: the capacity a trim to `retainedInboxSlots` gives
    private let inboxDepth = Atomic<Int>(0)
    private let crossThreadWakeups = Atomic<UInt64>(0)
    private let stopRequested = Atomic<Bool>(false)
    private let driving = Atomic<Bool>(false)

    let aliveTasklets = Atomic<Int>(0)
    /// Spawns refused by `limits.maxTasklets`.
    let refusedTasklets = Atomic<UInt64>(0)

    /// The caps set at creation.
    public let limits: LoopLimits

    /// Jobs `run()` runs back to back before it polls I/O again without blocking; bounds how
    /// long a busy run queue can delay sockets and timers. Set at creation (a `let`: `run()`
    /// reads it on the loop's thread, and nothing may change it from another).
    public let jobsBetweenPolls: Int

    var watchdog: Watchdog? = Watchdog(threshold: .milliseconds(100), report: WatchdogReport.logToStandardError)
    var finishedTaskKeys: [UnsafeRawPointer] = []

    private(set) lazy var taskExecutor = LoopTaskExecutor(loop: self)
    private(set) lazy var serialExecutor = LoopSerialExecutor(loop: self)
    private lazy var unownedTaskExecutor = taskExecutor.asUnownedTaskExecutor()
    private lazy var unownedSerialExecutor = serialExecutor.asUnownedSerialExecutor()

    /// Creates a loop.
    /// - Parameters:
    ///   - backend: the kernel interface libev waits with.
    ///   - name: shown in watchdog reports.
    ///   - limits: caps on tasklets and on the storage the loop keeps (see `LoopLimits`).
    ///   - jobsBetweenPolls: see the property; at least 1 (smaller values are raised to 1).
    /// - Throws: `LoopError.backendUnavailable` when libev cannot use that backend here.
    /// May be called on any thread; the loop is then driven by whichever thread calls `run()`.
    public init(
        backend: LoopBackend = .automatic, name: String = "loop", limits: LoopLimits = .unlimited,
        jobsBetweenPolls: Int = 256
    ) throws {
        Loop.ignoreSIGPIPE
        guard let ev = ev_loop_new(backend.evFlags | cev_flag_noenv()) else {
            throw LoopError.backendUnavailable(backend)
        }
        self.ev = ev
        self.name = name
        self.limits = limits
        self.jobsBetweenPolls = max(1, jobsBetweenPolls)
        self.backend = LoopBackend(evBackend: ev_backend(ev))
        hot = .allocate(capacity: 1)
        hot.initialize(to: HotState(runQueueSlots: limits.initialRunQueueSlots))
        wakeupWatcher = .allocate(capacity: 1)
        wakeupWatcher.initialize(to: ev_async())
        // An empty callback: ev_run returns after the wake-up and run() drains the inbox.
        cev_async_init(wakeupWatcher) { _, _, _ in }
        ev_async_start(ev, wakeupWatcher)
        // The executors are lazy only because they need `self`. Made here, before any other
        // thread can see the loop: spawns from several threads then only read them (a lazy
        // property's first use is an unsynchronised write, which ThreadSanitizer caught).
        _ = unownedTaskExecutor
        _ = unownedSerialExecutor
    }

    deinit {
        ev_async_stop(ev, wakeupWatcher)
        ev_loop_destroy(ev)
        wakeupWatcher.deinitialize(count: 1)
        wakeupWatcher.deallocate()
        hot.deinitialize(count: 1)
        hot.deallocate()
    }

    /// SIGPIPE must never kill the process: writes to a closed peer return EPIPE instead.
    private static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// The value kept in the thread-local "current loop" slot while this loop is driven.
    @inline(__always) private var identity: UnsafeMutableRawPointer {
        Unmanaged.passUnretained(self).toOpaque()
    }

    /// The loop's serial executor, for actors whose state lives on the loop's thread:
    /// `nonisolated var unownedExecutor: UnownedSerialExecutor { loop.unownedExecutor }`.
    public var unownedExecutor: UnownedSerialExecutor { serialExecutor.asUnownedSerialExecutor() }

    /// The loop being driven by the calling thread, if any.
    public static var current: Loop? {
        guard let raw = cln_current_loop() else { return nil }
        return Unmanaged<Loop>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Whether the calling thread is the one driving this loop right now.
    public var isCurrent: Bool { cln_current_loop() == identity }

    // MARK: - Enqueueing

    @inline(__always)
    func enqueue(_ job: UnownedJob, serial: Bool) {
        if cln_current_loop() == identity {
            hot.pointee.runQueue.append(QueuedJob(job: job, serial: serial))
            noteRunQueueDepth()
        } else {
            enqueueFromOtherThread(.job(QueuedJob(job: job, serial: serial)))
        }
    }

    /// Runs `call` on the loop's thread when it next drains its inbox (between jobs). Safe from any
    /// thread. Used to resume a parked tasklet from another thread: the resumption then runs on
    /// the loop's core, where the task was last touched, instead of on a cold foreign core.
    @usableFromInline
    func post(_ call: @escaping @Sendable () -> Void) {
        enqueueFromOtherThread(.call(call))
    }

    /// Runs `body` on the loop's thread: at once if the caller is on it, otherwise as soon as
    /// the loop gets to it. Safe from any thread. Used for cancellation, which Swift delivers on
    /// the cancelling thread.
    package func execute(_ body: @escaping @Sendable () -> Void) {
        if isCurrent {
            body()
        } else {
            post(body)
        }
    }

    private func enqueueFromOtherThread(_ item: InboxItem) {
        inboxLock.lock()
        inbox.append(item)
        let depth = inbox.count
        inboxHighWater = max(inboxHighWater, depth)
        inboxDepth.store(depth, ordering: .relaxed)
        inboxLock.unlock()
        // Only the job that makes the inbox non-empty wakes the loop: the loop drains the whole
        // inbox on each wake-up, so the rest ride along with it.
        if depth == 1 {
            crossThreadWakeups.add(1, ordering: .relaxed)
            ev_async_send(ev, wakeupWatcher)
        }
    }

    private func drainInbox() {
        guard inboxDepth.load(ordering: .relaxed) > 0 else { return }
        hot.pointee.clockIsFresh = false  // the calls below may start timers after a long job
        inboxLock.lock()
        swap(&inbox, &drained)
        inboxDepth.store(0, ordering: .relaxed)
        inboxLock.unlock()
        for item in drained {
            switch item {
            case .job(let job): hot.pointee.runQueue.append(job)
            case .call(let call): call()  // resumes a continuation: its job lands on the run queue
            }
        }
        noteRunQueueDepth()
        if let retained = limits.retainedInboxSlots, drained.capacity > max(retained, trimmedInboxCapacity) {
            // Give back what a burst grew; `inbox` (the other array) was trimmed on its own last drain.
            drained = []
            drained.reserveCapacity(retained)
            // The allocator may round the request up: remember what a trim gives, or every
            // drain would trim again.
            trimmedInboxCapacity = drained.capacity
        } else {
            drained.removeAll(keepingCapacity: true)
        }
    }

    /// Gives back run-queue storage a burst grew past `limits.retainedRunQueueSlots`, once the
    /// queue is empty (nothing to move). Loop thread only.
    @inline(__always) private func trimRunQueueIfIdle() {
        guard let retained = limits.retainedRunQueueSlots, hot.pointee.runQueue.capacity > retained,
            hot.pointee.runQueue.isEmpty
        else { return }
        hot.pointee.runQueue.replaceEmptyStorage(capacity: retained)
    }

    // MARK: - Driving

    /// Runs the loop on the calling thread until no tasklet is alive and no watcher is active,
    /// or until `stop()` is called.
    ///
    /// Must not be called from inside a tasklet of this loop. Ready jobs run in batches of
    /// `jobsBetweenPolls`, with a non-blocking I/O poll between batches so that a busy run queue
    /// cannot starve sockets and timers; when nothing is ready the thread sleeps in libev.
    public func run() {
        let previous = enter()
        defer {
            // The last tasklets' table entries wait for a purge that no later turn would make:
            // each holds its tasklet, which holds this loop, so the loop (its epoll and eventfd
            // descriptors) would never be freed.
            purgeFinishedTasklets()
            leave(previous)
        }
        while true {
            drainInbox()
            purgeFinishedTasklets()
            var budget = jobsBetweenPolls
            while budget > 0, let job = hot.pointee.runQueue.popFirst() {
                runOne(job)
                budget -= 1
            }
            if stopRequested.load(ordering: .acquiring) { break }
            if hot.pointee.runQueue.isEmpty {
                trimRunQueueIfIdle()
                if isIdle { break }
                ev_run(ev, Int32(EVRUN_ONCE))
            } else {
                ev_run(ev, Int32(EVRUN_NOWAIT))
            }
            hot.pointee.clockIsFresh = false  // the poll may have slept: the next start reads again
        }
    }

    /// The longest job `pump` saw lately (decaying): the room a frame leaves before it starts
    /// another job. Driving thread only.
    private var pumpJobEstimateNs: Int64 = 0

    /// Runs one frame's worth of the loop for a host that owns the thread (a game's main loop).
    ///
    /// Polls I/O and timers without blocking, then runs ready jobs until none is left or the
    /// budget is spent; when the run queue empties while budget remains it polls once more, so
    /// replies that arrived during the frame are handled in the same frame.
    /// - Parameter budget: the most time to spend running jobs. A job is never interrupted, so a
    ///   slow job can overrun it (the watchdog reports such jobs).
    /// - Returns: what the frame did.
    @discardableResult
    public func pump(budget: Duration) -> PumpReport {
        let previous = enter()
        defer {
            purgeFinishedTasklets()  // as in run(): a host may drop the loop after its last frame
            leave(previous)
        }
        let start = cln_now_ns()
        let budgetNs = budget.nanosecondsClamped
        var jobs = 0
        var polls = 0
        var exhausted = false
        // Past half the budget, a job is not started when the longest recent one would not fit
        // in what is left: the frame then ends inside its budget instead of one job past it.
        // (The first half always runs jobs, so every frame makes progress.)
        var longest = pumpJobEstimateNs
        let eventsBefore = hot.pointee.watcherEvents
        var now = start
        frame: while true {
            ev_run(ev, Int32(EVRUN_NOWAIT))
            hot.pointee.clockIsFresh = false  // as in run(): the next timer start reads the clock again
            polls += 1
            drainInbox()
            purgeFinishedTasklets()
            if hot.pointee.runQueue.isEmpty { break }
            while !hot.pointee.runQueue.isEmpty {
                // One and a half times the longest: jobs vary, and the I/O poll between batches
                // takes its share too.
                if jobs > 0 && now - start >= budgetNs / 2 && now - start + longest + longest / 2 > budgetNs {
                    exhausted = true
                    break frame
                }
                guard let job = hot.pointee.runQueue.popFirst() else { break }
                let before = now
                runOne(job)
                jobs += 1
                now = cln_now_ns()
                longest = max(longest, now - before)
                if now - start >= budgetNs {
                    exhausted = true
                    break frame
                }
            }
        }
        // Remember long jobs for the next frames, forgetting a quarter a frame.
        pumpJobEstimateNs = longest - longest / 4
        trimRunQueueIfIdle()
        return PumpReport(
            jobsRun: jobs, polls: polls, ioEvents: Int(hot.pointee.watcherEvents &- eventsBefore),
            elapsed: .nanoseconds(cln_now_ns() - start),
            budgetExhausted: exhausted, jobsStillReady: hot.pointee.runQueue.count + inboxDepth.load(ordering: .relaxed))
    }

    /// Asks `run()` to return after the jobs it is running now. Safe from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        ev_async_send(ev, wakeupWatcher)
    }

    private func enter() -> UnsafeMutableRawPointer? {
        precondition(
            driving.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged,
            "Loop '\(name)' is already being driven (run/pump called twice or from inside the loop)")
        stopRequested.store(false, ordering: .relaxed)
        let previous = cln_current_loop()
        cln_set_current_loop(identity)
        return previous
    }

    private func leave(_ previous: UnsafeMutableRawPointer?) {
        cln_set_current_loop(previous)
        driving.store(false, ordering: .releasing)
    }

    private var isIdle: Bool {
        aliveTasklets.load(ordering: .acquiring) == 0 && activeWatchers == 0
            && inboxDepth.load(ordering: .relaxed) == 0
    }

    /// Watchers started through `start`/`stop` (libev 4.33 exposes no refcount).
    var activeWatchers: Int { hot.pointee.activeWatchers }

    /// `ev_now_update` calls made by timer starts so far. Loop thread only (or once it stopped).
    var clockUpdates: UInt64 { hot.pointee.clockUpdates }

    /// Tasklets parked in a NetCore wait.
    var parkedTasklets: Int { hot.pointee.parkedTasklets }

    /// Starts an I/O watcher and counts it; a no-op if it is already active. Loop thread only.
    @inline(__always) func start(_ watcher: UnsafeMutablePointer<ev_io>) {
        guard cev_io_is_active(watcher) == 0 else { return }
        ev_io_start(ev, watcher)
        hot.pointee.activeWatchers += 1
    }

    /// Stops an I/O watcher and uncounts it; a no-op if it is not active. Loop thread only.
    @inline(__always) func stop(_ watcher: UnsafeMutablePointer<ev_io>) {
        guard cev_io_is_active(watcher) != 0 else { return }
        ev_io_stop(ev, watcher)
        hot.pointee.activeWatchers -= 1
    }

    /// Counts one socket readiness or timer expiry handled. Loop thread only (libev callbacks).
    @inline(__always) func noteWatcherEvent() { hot.pointee.watcherEvents &+= 1 }

    /// Counts a tasklet entering (+1) or leaving (-1) a NetCore wait. Loop thread only.
    @usableFromInline func noteParked(_ delta: Int) { hot.pointee.parkedTasklets += delta }

    /// Uncounts a watcher that libev stopped on its own (EV_ERROR).
    func watcherStoppedByLibev() { hot.pointee.activeWatchers -= 1 }

    /// Starts a timer watcher, measured from a clock read since the current job (or inbox
    /// drain, or poll) began.
    ///
    /// libev's clock moves only when it polls, so a timer started after long jobs would be
    /// measured from a stale time and fire early: the first start after each job boundary
    /// calls `ev_now_update`, and the starts after it in the same job reuse that read (a job
    /// starting many timers pays for one clock read). The remaining staleness is the time the
    /// job itself ran since its first timer start.
    @inline(__always) func start(_ watcher: UnsafeMutablePointer<ev_timer>) {
        guard cev_timer_is_active(watcher) == 0 else { return }
        if !hot.pointee.clockIsFresh {
            ev_now_update(ev)
            hot.pointee.clockIsFresh = true
            hot.pointee.clockUpdates &+= 1
        }
        ev_timer_start(ev, watcher)
        hot.pointee.activeWatchers += 1
    }

    @inline(__always) func stop(_ watcher: UnsafeMutablePointer<ev_timer>) {
        guard cev_timer_is_active(watcher) != 0 else { return }
        ev_timer_stop(ev, watcher)
        hot.pointee.activeWatchers -= 1
    }

    @inline(__always)
    private func runOne(_ queued: QueuedJob) {
        // The jobs before this one may have run long: its first timer start reads the clock.
        hot.pointee.clockIsFresh = false
        if let watchdog {
            let started = cln_coarse_now_ns()
            execute(queued)
            let held = cln_coarse_now_ns() - started
            if held >= watchdog.thresholdNanoseconds {
                watchdog.report(self, job: queued.job, heldNanoseconds: held)
            }
        } else {
            execute(queued)
        }
        hot.pointee.jobsRun &+= 1
    }

    @inline(__always)
    private func execute(_ queued: QueuedJob) {
        hot.pointee.runningJob = unsafeBitCast(queued.job, to: UnsafeRawPointer.self)
        defer { hot.pointee.runningJob = nil }
        if queued.serial {
            queued.job.runSynchronously(on: unownedSerialExecutor)
        } else {
            queued.job.runSynchronously(on: unownedTaskExecutor)
        }
    }

    // MARK: - Tasklet bookkeeping (loop thread)

    func register(task: UnsafeRawPointer, tasklet: Tasklet) {
        hot.pointee.tasklets.insert(tasklet, for: task)
    }

    /// Called from a tasklet's last job: the entry stays until that job has returned, so the
    /// watchdog can still name a tasklet whose final job was the slow one.
    func taskletFinished(task: UnsafeRawPointer) {
        finishedTaskKeys.append(task)
        aliveTasklets.subtract(1, ordering: .releasing)
    }

    private func purgeFinishedTasklets() {
        guard !finishedTaskKeys.isEmpty else { return }
        for key in finishedTaskKeys { hot.pointee.tasklets.remove(key) }
        finishedTaskKeys.removeAll(keepingCapacity: true)
    }

    func tasklet(runningJob job: UnownedJob) -> Tasklet? {
        hot.pointee.tasklets[unsafeBitCast(job, to: UnsafeRawPointer.self)]
    }

    /// The job (task) the loop is running now; nil outside a job. Loop thread only.
    var runningJob: UnsafeRawPointer? { hot.pointee.runningJob }

    /// The tasklet whose own task is `task`, if it is alive on this loop. Loop thread only.
    func tasklet(forTask task: UnsafeRawPointer) -> Tasklet? {
        guard let tasklet = hot.pointee.tasklets[task], tasklet.isAlive else { return nil }
        return tasklet
    }

    // MARK: - Stats

    /// One compare per enqueue: a high-water mark that misses peaks would understate the footprint.
    @inline(__always) private func noteRunQueueDepth() {
        let depth = hot.pointee.runQueue.count
        if depth > hot.pointee.runQueueHighWater { hot.pointee.runQueueHighWater = depth }
    }

    /// The loop's own storage, for `footprint` (Footprint.swift). Loop thread, or while not driven.
    var storage: LoopStorage {
        inboxLock.lock()
        let inboxCapacity = inbox.capacity
        let inboxHighWater = inboxHighWater
        inboxLock.unlock()
        return LoopStorage(
            ev: UnsafeRawPointer(ev), hot: UnsafeRawPointer(hot), wakeupWatcher: UnsafeRawPointer(wakeupWatcher),
            runQueueStorage: UnsafeRawPointer(hot.pointee.runQueue.elements),
            runQueueCapacity: hot.pointee.runQueue.capacity, runQueueHighWater: hot.pointee.runQueueHighWater,
            inboxCapacity: inboxCapacity + drained.capacity, inboxHighWater: inboxHighWater,
            finishedKeysCapacity: finishedTaskKeys.capacity, taskletTable: hot.pointee.tasklets)
    }

    /// Counts that show what the loop is doing. Read on the loop's thread (or while it is not driven).
    public var stats: LoopStats {
        LoopStats(
            taskletsAlive: aliveTasklets.load(ordering: .relaxed),
            taskletsParked: parkedTasklets,
            jobsReady: hot.pointee.runQueue.count,
            activeWatchers: activeWatchers,
            inboxDepth: inboxDepth.load(ordering: .relaxed),
            jobsRun: hot.pointee.jobsRun,
            ioEvents: hot.pointee.watcherEvents,
            crossThreadWakeups: crossThreadWakeups.load(ordering: .relaxed),
            taskletsRefused: refusedTasklets.load(ordering: .relaxed))
    }
}

/// What one `pump(budget:)` call did.
public struct PumpReport: Sendable, Equatable {
    /// Jobs (tasklet steps) run in this frame.
    public var jobsRun: Int
    /// Non-blocking I/O polls made in this frame.
    public var polls: Int
    /// I/O events those polls handled: sockets found ready and timers that expired.
    public var ioEvents: Int
    /// Wall time spent inside `pump`.
    public var elapsed: Duration
    /// True when the frame stopped because the budget ran out, not because work ran out.
    public var budgetExhausted: Bool
    /// Jobs still ready to run (they run in the next frame).
    public var jobsStillReady: Int
}

/// A snapshot of a loop's counters.
public struct LoopStats: Sendable, Equatable, CustomStringConvertible {
    /// Tasklets spawned on the loop that have not finished.
    public var taskletsAlive: Int
    /// Tasklets suspended in a NetCore wait (socket, channel, timer).
    public var taskletsParked: Int
    /// Jobs in the run queue.
    public var jobsReady: Int
    /// libev watchers started by tasklets (socket waits, timers).
    public var activeWatchers: Int
    /// Jobs enqueued from other threads and not yet moved to the run queue.
    public var inboxDepth: Int
    /// Jobs run since the loop was created.
    public var jobsRun: UInt64
    /// Sockets found ready and timers expired since the loop was created.
    public var ioEvents: UInt64
    /// `ev_async` wake-ups other threads sent: one per batch of hand-offs that found the inbox
    /// empty, however many jobs and resumptions rode along.
    public var crossThreadWakeups: UInt64
    /// Spawns refused because `LoopLimits.maxTasklets` tasklets were alive.
    public var taskletsRefused: UInt64

    /// The counters on one line, for logs.
    public var description: String {
        "alive=\(taskletsAlive) parked=\(taskletsParked) ready=\(jobsReady) watchers=\(activeWatchers) "
            + "inbox=\(inboxDepth) jobsRun=\(jobsRun) ioEvents=\(ioEvents) wakeups=\(crossThreadWakeups) refused=\(taskletsRefused)"
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to Int64 (durations beyond ~292 years saturate).
    package var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = product.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? (seconds < 0 ? .min : .max) : sum
    }

    /// Seconds as a Double, as libev's timers take them.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
