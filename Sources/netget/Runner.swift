import HTTPClient
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// One netget run: the loop, the jobs (at most -j at once), the progress display, Ctrl-C.
final class Runner: @unchecked Sendable {  // used on the loop's thread; results read after run()
    private let plan: Plan
    private var reports: [JobReport?]
    private var interrupted = false

    init(plan: Plan) {
        self.plan = plan
        reports = Array(repeating: nil, count: plan.entries.count)
    }

    /// Runs every download. - Returns: the exit status.
    func run() throws -> Int32 {
        let loop = try Loop(name: "netget")
        // The watchdog's reports are for developers; -q and --json promise a quiet stderr.
        if plan.quiet || plan.json { loop.disableWatchdog() }
        // Threads for blocking HTTP (the workers engine) and for fsync and hashing.
        let httpWorkers =
            plan.client.engine == .workers
            ? try WorkerPool(threads: min(64, plan.parallel * plan.download.connections + 1), maxQueued: 4096, name: "http") : nil
        // Each finished file's fdatasync runs at once on a disk worker: one worker per -j (4 to
        // 8) lets that many syncs share the journal's commits while the downloads go on.
        let disk = try WorkerPool(threads: min(8, max(4, plan.parallel)), maxQueued: 1024, stackSize: 256 << 10, name: "disk")
        let client = Client(configuration: plan.client, workers: httpWorkers)
        let board = ProgressBoard(quiet: plan.quiet, showTotal: plan.entries.count > 1 && !plan.toStandardOutput)
        let context = RunContext(plan: plan, client: client, disk: disk, board: board)
        if plan.dryRun { return try dryRun(loop: loop, client: client, disk: disk, httpWorkers: httpWorkers) }
        let watcher = try InterruptWatcher()
        // -d, and each list entry's dir= (mkdir -p, as aria2 makes them).
        var made = Set<String>()
        for directory in [plan.directory].compactMap({ $0 }) + plan.entries.compactMap(\.directory) where made.insert(directory).inserted {
            try makeDirectories(directory, option: directory == plan.directory ? "-d" : "dir=")
        }
        let slots = NetCore.Semaphore(plan.parallel)
        let progress = RunProgress(remaining: plan.toStandardOutput ? 1 : plan.entries.count)

        let standardOutput = plan.toStandardOutput ? StandardOutput(disk: disk) : nil
        if let output = standardOutput {
            // One body after another, in input order; the first failure stops the rest, whose
            // bytes would otherwise follow a body cut short.
            progress.jobs.append(
                loop.spawn(name: "downloads to stdout") { [self] in
                    defer { progress.finishOne() }
                    for (index, entry) in plan.entries.enumerated() {
                        let report = await DownloadJob(entry: entry, context: context, standardOutput: output).run()
                        reports[index] = report
                        guard report.outcome == .succeeded else {
                            let left = plan.entries.count - index - 1
                            if left > 0 { board.error("netget: \(left) more URL(s) not fetched: -o - stops at the first failure") }
                            return
                        }
                    }
                })
        } else {
            for (index, entry) in plan.entries.enumerated() {
                progress.jobs.append(
                    loop.spawn(name: "download \(index)") { [self] in
                        defer { progress.finishOne() }
                        guard (try? await slots.acquire()) == true else {
                            reports[index] = JobReport(url: entry.url.description, error: "interrupted", outcome: .interrupted)
                            return
                        }
                        // Given back when the job no longer uses the network: a finished file that
                        // waits for its batch's fdatasync lets the next download start.
                        let slot = SlotHold(slots)
                        defer { slot.release() }
                        let job = DownloadJob(entry: entry, context: context)
                        job.networkDone = { slot.release() }
                        reports[index] = await job.run()
                    })
            }
        }
        watcher.watch(on: loop) { [self] in
            interrupted = true
            for job in progress.jobs { job.cancel() }
        }
        loop.spawn(name: "progress") {
            let interval: Duration = board.style == .terminal ? .milliseconds(150) : .milliseconds(500)
            while progress.remaining > 0 {
                board.render()
                _ = try? await progress.allDone.wait(timeout: interval)  // wakes at once when the last job ends
            }
            // The renames reached the disk with their batches (GroupCommit): one fsync per
            // directory and batch.
            board.render(final: true)
            watcher.stop()
        }
        loop.run()
        // After an interrupted -o -, a disk worker may still be blocked in write(2) to a pipe
        // whose reader stopped reading: joining it would keep netget alive until the reader
        // reads again. The process exits right after this, which ends that thread too.
        if standardOutput?.failure?.errno != ECANCELED { disk.shutdown() }
        httpWorkers?.shutdown()

        let finished = reports.compactMap { $0 }
        if plan.json {
            for report in finished { writeStandardOutput(JSONSummary.line(report) + "\n") }
        }
        // An interrupt wins; else the first failure in input order names the cause (ExitStatus).
        if interrupted || finished.contains(where: { $0.outcome == .interrupted }) { return ExitStatus.interrupted.rawValue }
        return (finished.first { $0.exitStatus != .success }?.exitStatus ?? .success).rawValue
    }
}

extension Runner {
    /// --dry-run: every URL probed (at most -j at once), the answers printed in input order.
    /// - Returns: the exit status, as for downloads.
    func dryRun(loop: Loop, client: Client, disk: WorkerPool, httpWorkers: WorkerPool?) throws -> Int32 {
        let watcher = try InterruptWatcher()
        let slots = NetCore.Semaphore(plan.parallel)
        let progress = RunProgress(remaining: plan.entries.count)
        let results = DryRunResults(count: plan.entries.count)
        for (index, entry) in plan.entries.enumerated() {
            progress.jobs.append(
                loop.spawn(name: "probe \(index)") { [self] in
                    defer { progress.finishOne() }
                    guard (try? await slots.acquire()) == true else { return }
                    defer { slots.release() }
                    do {
                        let probe = try await DryRun.probe(entry, plan: plan, client: client)
                        results.lines[index] = plan.json ? DryRun.json(probe, url: entry.url.description) : DryRun.line(probe)
                        results.statuses[index] = .success
                    } catch {
                        results.statuses[index] = ExitStatus.of(error, storage: nil)
                        if !(error is CancellationError) { writeStandardError("netget: \(entry.url): \(DownloadJob.explain(error))\n") }
                    }
                })
        }
        watcher.watch(on: loop) {
            results.interrupted = true
            for job in progress.jobs { job.cancel() }
        }
        loop.spawn(name: "dry run") {
            while progress.remaining > 0 { _ = try? await progress.allDone.wait(timeout: .seconds(1)) }
            watcher.stop()
        }
        loop.run()
        disk.shutdown()
        httpWorkers?.shutdown()
        for line in results.lines.compactMap({ $0 }) { writeStandardOutput(line + "\n") }
        if results.interrupted { return ExitStatus.interrupted.rawValue }
        return (results.statuses.first { $0 != .success } ?? .success).rawValue
    }
}

/// --dry-run's answers in input order; written by the tasklets of one loop, read after run().
final class DryRunResults: @unchecked Sendable {  // the loop's thread only, then the caller's after run()
    var lines: [String?]
    var statuses: [ExitStatus]
    var interrupted = false
    init(count: Int) {
        lines = Array(repeating: nil, count: count)
        statuses = Array(repeating: .interrupted, count: count)
    }
}

/// A held place of a semaphore, given back once however many times `release` is called.
/// Loop-thread only.
final class SlotHold {
    private var semaphore: NetCore.Semaphore?
    init(_ semaphore: NetCore.Semaphore) { self.semaphore = semaphore }
    func release() {
        semaphore?.release()
        semaphore = nil
    }
}

/// The jobs of a run and how many are still going; loop-thread only.
final class RunProgress: @unchecked Sendable {  // touched by tasklets of one loop only
    var jobs: [TaskletHandle<Void>] = []
    private(set) var remaining: Int
    let allDone = NetCore.Event()
    init(remaining: Int) { self.remaining = remaining }

    func finishOne() {
        remaining -= 1
        if remaining == 0 { allDone.set() }
    }
}

/// One JSON object per download (no Foundation: the few fields are escaped by hand).
enum JSONSummary {
    static func line(_ report: JobReport) -> String {
        let fields: [(String, String)] = [
            ("url", quoted(report.url)),
            ("path", report.path.map(quoted) ?? "null"),
            ("bytes", String(report.bytes)),
            ("seconds", format3(report.seconds, decimals: 3)),
            ("retries", String(report.retries)),
            ("resumed-from", String(report.resumedFrom)),
            ("sha256", report.sha256.map(quoted) ?? "null"),
            ("error", report.error.map(quoted) ?? "null"),
            ("status", report.status.map(String.init) ?? "null"),
            ("final-url", report.finalURL.map(quoted) ?? "null"),
            // Timings in seconds, per phase, of the first response's connection (RequestTimings):
            // zero on a reused connection; tls null for plain http; all null without a response.
            ("time-dns", report.timings.map { jsonSeconds($0.nameLookup) } ?? "null"),
            ("time-connect", report.timings.map { jsonSeconds($0.connect) } ?? "null"),
            ("time-tls", report.timings?.tlsHandshake.map(jsonSeconds) ?? "null"),
            ("time-first-byte", report.firstByteSeconds.map { format3($0, decimals: 3) } ?? "null"),
            ("time-total", format3(report.seconds, decimals: 3)),
            // Each retry's reason, in order, joined by " | " (null: no retry).
            ("retry-reasons", report.retryReasons.isEmpty ? "null" : quoted(report.retryReasons.joined(separator: " | "))),
        ]
        return "{" + fields.map { "\(quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A duration in seconds, to the microsecond (a loopback connect takes a few), in plain
    /// digits (a Double's description would write 1e-05).
    static func jsonSeconds(_ duration: Duration) -> String {
        let micros = max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// mkdir -p: -d (or a list's dir=) names a directory that may not exist yet (as wget -P).
/// - Throws: `UsageError` naming the directory and the reason.
/// - Parameter option: how the message names where the directory came from.
func makeDirectories(_ path: String, option: String = "-d") throws {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        current += "/" + component
        if mkdir(current, 0o755) != 0 && errno != EEXIST {
            throw UsageError("\(option) \(path): cannot create \(current): \(String(cString: strerror(errno)))")
        }
    }
}
