#if canImport(Glibc)
    import Glibc
#endif

/// A report of one job that held its loop longer than the watchdog's threshold.
public struct WatchdogReport: Sendable, CustomStringConvertible {
    /// The loop's name.
    public var loopName: String
    /// The tasklet whose job it was, or nil for a job that is not a tasklet's (an actor's, say).
    public var taskletName: String?
    /// How long the job held the loop. Measured with the coarse monotonic clock: accurate to a
    /// scheduler tick (a few milliseconds).
    public var held: Duration
    /// The threshold in force.
    public var threshold: Duration
    /// Set when the report is about a job on a worker thread that a tasklet of this loop is
    /// waiting for (it does not hold the loop, but its caller is stuck): the job's name.
    public var workerJob: String?

    /// A report; every argument is the property of the same name.
    public init(loopName: String, taskletName: String?, held: Duration, threshold: Duration, workerJob: String? = nil) {
        self.loopName = loopName
        self.taskletName = taskletName
        self.held = held
        self.threshold = threshold
        self.workerJob = workerJob
    }

    /// The report on one line: loop, tasklet (or worker job), time held and threshold, in ms.
    public var description: String {
        let who = taskletName.map { "tasklet '\($0)'" } ?? "a job that is not a tasklet's"
        let ms = { (d: Duration) in d.nanosecondsClamped / 1_000_000 }
        if let workerJob {
            return "netcore watchdog: worker job '\(workerJob)' awaited by \(who) on loop '\(loopName)' has run for "
                + "\(ms(held)) ms (threshold \(ms(threshold)) ms); the job may be blocked"
        }
        return "netcore watchdog: \(who) held loop '\(loopName)' for \(ms(held)) ms "
            + "(threshold \(ms(threshold)) ms); nothing else on that loop ran meanwhile"
    }
}

/// Reports jobs that hold a loop too long. Nothing preempts a job, so a tasklet that computes
/// for a long time between two awaits stalls every other tasklet on its loop: the watchdog
/// names it so that the work can be moved to a worker or split with `Tasklet.yield()`.
struct Watchdog {
    var thresholdNanoseconds: Int64
    var handler: @Sendable (WatchdogReport) -> Void

    init(threshold: Duration, report: @escaping @Sendable (WatchdogReport) -> Void) {
        thresholdNanoseconds = threshold.nanosecondsClamped
        handler = report
    }

    func report(_ loop: Loop, job: UnownedJob, heldNanoseconds: Int64) {
        handler(
            WatchdogReport(
                loopName: loop.name, taskletName: loop.tasklet(runningJob: job)?.name,
                held: .nanoseconds(heldNanoseconds), threshold: .nanoseconds(thresholdNanoseconds)))
    }

}

extension WatchdogReport {
    /// The default watchdog handler: one line on standard error.
    public static let logToStandardError: @Sendable (WatchdogReport) -> Void = { report in
        var line = report.description + "\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}

extension Loop {
    /// Hands a report to this loop's watchdog handler, on the loop's thread (posted if the caller
    /// is on another thread). For components outside the loop that watch work a tasklet waits
    /// for, such as the worker pool. Does nothing while the watchdog is off. Safe from any thread.
    public func deliverWatchdogReport(_ report: WatchdogReport) {
        execute { [self] in watchdog?.handler(report) }
    }

    /// Turns the watchdog on with a threshold and a handler, replacing the default
    /// (100 ms, one line on standard error). The handler runs on the loop's thread right after
    /// the slow job returns. Call on the loop's thread or before the loop is driven.
    public func setWatchdog(
        threshold: Duration, report: @escaping @Sendable (WatchdogReport) -> Void = WatchdogReport.logToStandardError
    ) {
        watchdog = Watchdog(threshold: threshold, report: report)
    }

    /// Turns the watchdog off (saves two clock reads per job).
    public func disableWatchdog() {
        watchdog = nil
    }
}
