import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// The worker pool's monitor thread ("POOL-watch"): wakes a few times per threshold, reports
/// each job that has run longer than the threshold once. Off until `start` (opt-in through
/// `WorkerPool.setWatchdog`).
final class PoolWatchdog: @unchecked Sendable {  // fields are guarded by `lock`
    /// A running job as the monitor sees it.
    struct Job {
        let name: String
        let runningNs: Int64
        let startedAt: Int64
        let caller: (loop: Loop, tasklet: String?)?
    }

    private let lock = PThreadConditionLock()
    private var thread: pthread_t?
    private var stopping = false

    private final class Run {
        let watchdog: PoolWatchdog
        let thresholdNs: Int64
        let poolName: String
        let report: @Sendable (WorkerJobReport) -> Void
        let snapshot: @Sendable () -> [Job]
        init(
            _ watchdog: PoolWatchdog, _ thresholdNs: Int64, _ poolName: String,
            _ report: @escaping @Sendable (WorkerJobReport) -> Void,
            _ snapshot: @escaping @Sendable () -> [Job]
        ) {
            self.watchdog = watchdog
            self.thresholdNs = thresholdNs
            self.poolName = poolName
            self.report = report
            self.snapshot = snapshot
        }
    }

    /// Starts the monitor thread, on `cpus` if given (the pool's own CPUs, already accepted by
    /// the kernel for the workers; should they be refused now, the monitor stays off, as when its
    /// thread cannot start).
    /// - Returns: false when the thread did not start.
    @discardableResult
    func start(
        threshold: Duration, poolName: String, cpus: [Int]?, report: @escaping @Sendable (WorkerJobReport) -> Void,
        snapshot: @escaping @Sendable () -> [Job]
    ) -> Bool {
        stop()
        let components = threshold.components
        let thresholdNs = max(1_000_000, components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000)
        let run = Run(self, thresholdNs, poolName, report, snapshot)
        lock.withLock { stopping = false }
        guard
            let handle = try? OSThreads.start(
                cpus: cpus,
                {
                    ThreadIdentity.setName("\(poolName)-watch")  // only a label (top -H, /proc): a refusal changes nothing
                    run.watchdog.monitor(run)
                })
        else { return false }
        lock.withLock { thread = handle }
        return true
    }

    func stop() {
        let handle: pthread_t? = lock.withLock {
            stopping = true
            lock.broadcast()
            defer { thread = nil }
            return thread
        }
        if let handle { pthread_join(handle, nil) }
    }

    private func monitor(_ run: Run) {
        var reported = Set<Int64>()  // start times of jobs already reported
        let period = max(1_000_000, run.thresholdNs / 4)
        while true {
            let stop = lock.withLock { () -> Bool in
                if !stopping { _ = lock.wait(untilMonotonicNanoseconds: MonotonicClock.nanoseconds() + period) }
                return stopping
            }
            if stop { return }
            let jobs = run.snapshot()
            reported.formIntersection(jobs.map(\.startedAt))
            for job in jobs where job.runningNs >= run.thresholdNs && !reported.contains(job.startedAt) {
                reported.insert(job.startedAt)
                run.report(
                    WorkerJobReport(
                        poolName: run.poolName, jobName: job.name,
                        running: .nanoseconds(job.runningNs), threshold: .nanoseconds(run.thresholdNs)))
                if let caller = job.caller {
                    caller.loop.deliverWatchdogReport(
                        WatchdogReport(
                            loopName: caller.loop.name, taskletName: caller.tasklet, held: .nanoseconds(job.runningNs),
                            threshold: .nanoseconds(run.thresholdNs), workerJob: job.name))
                }
            }
        }
    }
}
