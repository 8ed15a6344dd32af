import Synchronization

private let nextTaskletID = Atomic<UInt64>(1)

/// The identity of a tasklet: a lightweight thread of control that runs on one `Loop`.
///
/// A tasklet is a Swift task whose jobs all run on its loop's thread. It parks (suspends) on
/// sockets, channels and timers without holding a thread or a stack. Get the current one with
/// `Tasklet.current`; spawn one with `Loop.spawn(name:_:)`.
public final class Tasklet: Sendable, CustomStringConvertible {
    /// The name given at spawn (or `tasklet-<id>`); shown in watchdog reports. The default is
    /// made when asked for (reports, logs), not stored.
    public var name: String { givenName?.name ?? "tasklet-\(id)" }
    /// A process-wide unique number.
    public let id: UInt64
    /// The loop whose thread runs this tasklet. Held strongly: a loop lives while its tasklets do.
    public let loop: Loop
    // Every parked tasklet pays for this object, so its fields are laid out for its malloc size
    // class (see Footprint.bytesPerTasklet): a given name is boxed (one word; most tasklets have
    // none), the two flags and the park id share one atomic word, the task's address is not
    // stored (begin() and end() run in the task's own jobs, where the loop's running job is that
    // address), and the park site and the outcome share a word (a tasklet parks only while it
    // lives and has an outcome only once it has ended). 56 B of fields, a 64 B block.
    private let givenName: TaskletName?
    /// Bit 0: ended (written once, on the loop thread, with release ordering, after the outcome).
    /// Bit 1: cancel requested (any thread). Bits 2-63: the id of the current park (loop thread
    /// only, like the park site; the sites' ids are counters far below 2^62).
    private let state = Atomic<UInt64>(0)
    /// While the tasklet lives: where it is parked, if it is (the site's address, unretained:
    /// the parked frame holds the site strongly for as long as this is set; loop thread only).
    /// Once it has ended: its body's `Result`, type-erased in an `OutcomeBox` and retained
    /// (written once, on the loop thread, before the ended bit is set with release ordering;
    /// read only after it has been loaded set with acquire ordering). An untyped word rather
    /// than an existential (two words) and an optional box (one more): one word.
    nonisolated(unsafe) private var parkSiteOrOutcome: UnsafeMutableRawPointer?

    private static let endedBit: UInt64 = 1
    private static let cancelBit: UInt64 = 2
    private static let flagBits: UInt64 = endedBit | cancelBit

    @usableFromInline init(name: String?, loop: Loop) {
        id = nextTaskletID.wrappingAdd(1, ordering: .relaxed).oldValue
        givenName = name.map(TaskletName.init)
        self.loop = loop
    }

    deinit {
        // Ended: the word holds the retained outcome (a live tasklet cannot be deinitialised:
        // its task holds it).
        if !isAlive, let outcome = parkSiteOrOutcome { Unmanaged<OutcomeBox>.fromOpaque(outcome).release() }
    }

    /// The tasklet running the calling code, or nil outside a tasklet: on a plain thread, in a
    /// task that was not spawned on a loop, and in child tasks (`async let`, task groups,
    /// `withTimeout`'s body), which are tasks of their own.
    ///
    /// Found through the loop's map from task to tasklet rather than a task-local value: a
    /// task-local binding costs every tasklet an extra async frame (a second allocator slab).
    public static var current: Tasklet? { currentRoot() }

    /// The tasklet whose own task is running the calling code (not a child task of it), or nil.
    @usableFromInline static func currentRoot() -> Tasklet? {
        guard let loop = Loop.current else { return nil }
        return currentRoot(on: loop)
    }

    /// `currentRoot()` when the caller already has the current loop.
    @usableFromInline static func currentRoot(on loop: Loop) -> Tasklet? {
        // On the loop's thread the running job is the running task (compared, never followed).
        guard let key = loop.runningJob else { return nil }
        return loop.tasklet(forTask: key)
    }

    @usableFromInline var isCancelRequested: Bool { state.load(ordering: .acquiring) & Tasklet.cancelBit != 0 }

    @usableFromInline func parked(on site: some ParkSite, id: UInt64) {
        parkSiteOrOutcome = Unmanaged<AnyObject>.passUnretained(site).toOpaque()
        // Keeps the flag bits: a cancel may be requested from another thread meanwhile.
        var old = state.load(ordering: .relaxed)
        while true {
            let (exchanged, current) = state.compareExchange(
                expected: old, desired: (old & Tasklet.flagBits) | (id << 2), ordering: .relaxed)
            if exchanged { return }
            old = current
        }
    }

    /// The id `parked(on:id:)` stored (loop thread only).
    private var parkID: UInt64 { state.load(ordering: .relaxed) >> 2 }

    @usableFromInline func unparked() { parkSiteOrOutcome = nil }

    /// Marks the tasklet cancelled and, on the loop thread, ends its current park.
    func requestCancel() {
        state.bitwiseOr(Tasklet.cancelBit, ordering: .releasing)
        loop.execute { [self] in
            // After the end the word is the outcome; end() runs on this thread too, so the check holds.
            guard isAlive, let address = parkSiteOrOutcome else { return }
            parkSiteOrOutcome = nil
            // The dynamic cast back to the protocol costs a conformance look-up (cached by the
            // runtime), on this rare path only: parking stores a bare address.
            guard let site = Unmanaged<AnyObject>.fromOpaque(address).takeUnretainedValue() as? any ParkSite else { return }
            site.abandonPark(id: parkID, error: CancellationError())
        }
    }

    /// True until the tasklet's body has returned or thrown. Safe from any thread.
    public var isAlive: Bool { state.load(ordering: .acquiring) & Tasklet.endedBit == 0 }

    /// Runs first in the tasklet's task, on the loop thread: records the task so that the loop
    /// can map it (and its jobs) back to this tasklet.
    @usableFromInline func begin() {
        // begin() runs inside the tasklet's first job, so the loop is running that job.
        loop.register(task: loop.runningJob!, tasklet: self)
    }

    /// Runs last in the tasklet's task, on the loop thread.
    @usableFromInline func end(outcome: Any) {
        record(outcome)
        // Like begin(), end() runs inside one of the task's own jobs (its last): the job the loop
        // is running is the task, the key begin() registered.
        loop.taskletFinished(task: loop.runningJob!)
    }

    /// Ends a tasklet whose spawn was refused: it never had a task, so the loop never counted
    /// or registered it. Any thread (the spawning one), before the tasklet is shared.
    func endRefused(outcome: Any) { record(outcome) }

    private func record(_ outcome: Any) {
        // Not parked now: the tasklet's own job is running (or it never ran: refused).
        parkSiteOrOutcome = Unmanaged.passRetained(OutcomeBox(outcome)).toOpaque()
        state.bitwiseOr(Tasklet.endedBit, ordering: .releasing)
    }

    func finalOutcome<Success>(as type: Success.Type) -> Result<Success, any Error>? {
        guard !isAlive, let outcome = parkSiteOrOutcome else { return nil }
        return Unmanaged<OutcomeBox>.fromOpaque(outcome).takeUnretainedValue().value as? Result<Success, any Error>
    }

    /// Lets every other ready tasklet of this loop run once before the caller continues.
    /// Use it to split long computations, which would otherwise hold the loop (see the watchdog).
    nonisolated(nonsending) public static func yield() async {
        await Task.yield()
    }

    /// The tasklet's name, id and whether it is alive, for logs.
    public var description: String { "Tasklet(\(name), id: \(id), alive: \(isAlive))" }
}

/// A name given at spawn, boxed: a tasklet without one pays a word, not a string's two.
final class TaskletName: Sendable {
    let name: String
    init(_ name: String) { self.name = name }
}

/// A finished tasklet's result, made only when it ends.
final class OutcomeBox: Sendable {
    // `Any` holds a `Result<Success, any Error>` of a Sendable Success: immutable once made.
    nonisolated(unsafe) let value: Any
    init(_ value: Any) { self.value = value }
}

/// What `Loop.spawn` returns: the tasklet, its result, and a way to cancel it.
public struct TaskletHandle<Success: Sendable>: Sendable {
    /// The tasklet's identity.
    public let tasklet: Tasklet
    /// nil for a spawn the tasklet limit refused: no task was made, and the tasklet has ended.
    @usableFromInline let task: Task<Success, any Error>?

    @usableFromInline init(tasklet: Tasklet, task: Task<Success, any Error>?) {
        self.tasklet = tasklet
        self.task = task
    }

    /// The tasklet's name.
    public var name: String { tasklet.name }
    /// True until the body has returned or thrown.
    public var isAlive: Bool { tasklet.isAlive }

    /// The body's result. Waits for the tasklet to finish; rethrows the error the body threw
    /// (`CancellationError` if it was cancelled while parked). Callable from any task; from a
    /// plain thread, use a channel or `Loop.run()` instead.
    public var value: Success {
        get async throws {
            guard let task else {
                // Refused at spawn: the tasklet was ended with the error before this handle existed.
                return try tasklet.finalOutcome(as: Success.self)!.get()
            }
            return try await task.value
        }
    }

    /// The body's result once the tasklet has finished, nil while it is alive. Unlike `value`
    /// it does not wait, so plain threads (after `Loop.run()` returned, say) can read it.
    public var result: Result<Success, any Error>? { tasklet.finalOutcome(as: Success.self) }

    /// Cancels the tasklet. If it is parked (socket, channel, timer), it is resumed at once with
    /// `CancellationError` and the watcher it waited on is stopped; if it is running, its next
    /// NetCore wait throws. Safe from any thread.
    public func cancel() {
        task?.cancel()  // for Task.isCancelled and the tasklet's child tasks
        tasklet.requestCancel()  // ends a park of the tasklet's own task, which has no handler
    }
}

extension Loop {
    /// Starts a tasklet that runs `body` on this loop's thread.
    ///
    /// Safe from any thread: from the loop's own thread the first step goes on the run queue,
    /// from another thread it goes through the inbox and wakes the loop. The loop's `run()`
    /// keeps going while the tasklet is alive.
    ///
    /// When `limits.maxTasklets` tasklets are alive, nothing starts: `body` never runs, and the
    /// handle's tasklet has ended with `LoopError.taskletLimitReached`, which `value` throws
    /// (use `trySpawn` to have the error thrown here instead).
    /// - Parameters:
    ///   - name: shown in watchdog reports; defaults to `tasklet-<id>`.
    ///   - body: the tasklet's code. Whatever it throws comes out of `value`.
    @discardableResult
    @inlinable
    public func spawn<Success: Sendable>(
        name: String? = nil, _ body: sending @escaping () async throws -> Success
    ) -> TaskletHandle<Success> {
        guard let tasklet = makeTasklet(name: name) else { return refusedTasklet(name: name) }
        return startTasklet(tasklet, body)
    }

    /// `spawn`, for code that must know at once whether the tasklet started: library code whose
    /// caller would otherwise wait for a tasklet that never runs.
    /// - Throws: `LoopError.taskletLimitReached` when `limits.maxTasklets` tasklets are alive
    ///   (counted in `stats.taskletsRefused`; nothing was started). Safe from any thread.
    @discardableResult
    @inlinable
    public func trySpawn<Success: Sendable>(
        name: String? = nil, _ body: sending @escaping () async throws -> Success
    ) throws(LoopError) -> TaskletHandle<Success> {
        guard let tasklet = makeTasklet(name: name) else { throw refuseTasklet() }
        return startTasklet(tasklet, body)
    }

    /// Starts `tasklet`'s task on this loop.
    @inlinable  // specialised for the caller's `Success`: unspecialised, the wrapper's frame costs
    // dynamic allocations on the task's allocator, which every parked tasklet pays for.
    func startTasklet<Success: Sendable>(
        _ tasklet: Tasklet, _ body: sending @escaping () async throws -> Success
    ) -> TaskletHandle<Success> {
        let task = Task<Success, any Error>(executorPreference: taskExecutorForTasklets) {
            tasklet.begin()
            do {
                let value = try await body()
                tasklet.end(outcome: Result<Success, any Error>.success(value))
                return value
            } catch {
                tasklet.end(outcome: Result<Success, any Error>.failure(error))
                throw error
            }
        }
        return TaskletHandle(tasklet: tasklet, task: task)
    }

    /// A new tasklet, counted alive; nil when `limits.maxTasklets` are alive already.
    @usableFromInline func makeTasklet(name: String?) -> Tasklet? {
        guard reserveTaskletSlot() else { return nil }
        return Tasklet(name: name, loop: self)
    }

    /// Counts one more tasklet alive unless that would pass the limit. Any thread: spawns race.
    private func reserveTaskletSlot() -> Bool {
        let limit = limits.maxTasklets
        if limit == .max {
            aliveTasklets.add(1, ordering: .relaxed)
            return true
        }
        var alive = aliveTasklets.load(ordering: .relaxed)
        while alive < limit {
            let (exchanged, original) = aliveTasklets.compareExchange(
                expected: alive, desired: alive + 1, ordering: .relaxed)
            if exchanged { return true }
            alive = original
        }
        return false
    }

    /// Counts a refused spawn. - Returns: the error that says why.
    @usableFromInline func refuseTasklet() -> LoopError {
        refusedTasklets.add(1, ordering: .relaxed)
        return LoopError.taskletLimitReached(limits.maxTasklets)
    }

    /// The handle of a spawn the limit refused: no task, nothing queued (a flood of refusals
    /// costs one small object each, freed with the handle); its tasklet has already ended with
    /// the error, which `value` and `result` give.
    @usableFromInline func refusedTasklet<Success: Sendable>(name: String?) -> TaskletHandle<Success> {
        let tasklet = Tasklet(name: name, loop: self)
        tasklet.endRefused(outcome: Result<Success, any Error>.failure(refuseTasklet()))
        return TaskletHandle(tasklet: tasklet, task: nil)
    }

    @usableFromInline var taskExecutorForTasklets: any TaskExecutor { taskExecutor }

}
