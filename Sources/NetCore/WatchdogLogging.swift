import Logging

extension WatchdogReport {
    /// A watchdog handler that logs each report to `logger` as a warning, with the report's
    /// fields as metadata (`netcore.loop`, `netcore.tasklet`, `netcore.held.ms`,
    /// `netcore.threshold.ms`, and `netcore.worker.job` for a worker pool's report). For
    /// `Loop.setWatchdog(threshold:report:)`; a worker pool's watchdog reports arrive through
    /// its caller's loop, so the same handler logs both. Runs on the loop's thread.
    public static func logging(to logger: Logger) -> @Sendable (WatchdogReport) -> Void {
        { report in
            var metadata: Logger.Metadata = [
                "netcore.loop": "\(report.loopName)",
                "netcore.held.ms": "\(report.held.nanosecondsClamped / 1_000_000)",
                "netcore.threshold.ms": "\(report.threshold.nanosecondsClamped / 1_000_000)",
            ]
            if let tasklet = report.taskletName { metadata["netcore.tasklet"] = "\(tasklet)" }
            if let job = report.workerJob { metadata["netcore.worker.job"] = "\(job)" }
            logger.warning("\(report.description)", metadata: metadata)
        }
    }
}
