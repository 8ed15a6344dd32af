/// The executor that runs tasklets: every job of a task started with this executor as its
/// preference (nonisolated async code) is run on the loop's thread.
///
/// Kept apart from `LoopSerialExecutor` so that each job runs with the matching
/// `runSynchronously` call; running a task-executor job "on" the serial executor makes
/// every later await hop twice.
final class LoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // unowned(unsafe): the Loop owns this executor and outlives every tasklet it runs, because
    // each tasklet holds a strong reference to its loop until its last job has run.
    unowned(unsafe) let loop: Loop

    init(loop: Loop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        // Guaranteed reference: no retain/release of the loop on every enqueue.
        let unownedJob = UnownedJob(job)
        Unmanaged.passUnretained(loop)._withUnsafeGuaranteedRef { $0.enqueue(unownedJob, serial: false) }
    }
}

/// The serial executor of a loop: actors whose `unownedExecutor` is the loop's run on its thread.
final class LoopSerialExecutor: SerialExecutor, @unchecked Sendable {
    // unowned(unsafe): see LoopTaskExecutor.
    unowned(unsafe) let loop: Loop

    init(loop: Loop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        loop.enqueue(UnownedJob(job), serial: true)
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func checkIsolated() {
        precondition(loop.isCurrent, "expected to run on loop '\(loop.name)'")
    }
}

extension Loop {
    /// The executor the loop's tasklets prefer, for `withTaskExecutorPreference`: inside it, a task
    /// that is not a tasklet (a plain `Task`) runs its nonisolated code on this loop's thread and
    /// may park on the loop's sockets there, as a tasklet's child task does. For the libraries of
    /// this package (the HTTP client's calls from outside the loop).
    package var preferredTaskExecutor: any TaskExecutor { taskExecutor }
}
