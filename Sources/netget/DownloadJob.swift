import HTTPClient
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// How one URL ended.
struct JobReport {
    enum Outcome {
        case succeeded, skipped, failed, checksumMismatch, interrupted
        /// -N: the server answered 304 Not Modified; the file was left as it was.
        case upToDate
        /// Standard output (-o -) could not be written: its reader closed it, or a write failed.
        case outputFailed
    }
    var url: String
    var path: String?
    var bytes: UInt64 = 0
    var seconds: Double = 0
    var retries = 0
    var resumedFrom: UInt64 = 0
    var sha256: String?
    var error: String?
    var outcome = Outcome.succeeded
    /// For a failed download: its cause's exit status (`ExitStatus.of`).
    var failure = ExitStatus.failure
    /// --json: the last response's status and URL (after redirects), the seconds to the first
    /// response head, and each retry's reason.
    var status: Int?
    var finalURL: String?
    var firstByteSeconds: Double?
    var retryReasons: [String] = []
    /// --json's time-dns, time-connect, time-tls: the first response's (`Downloader.firstTimings`).
    var timings: RequestTimings?
    /// Which limit ended a `.failed` download (--speed-limit, --max-time, --max-filesize), for
    /// an exit status of its own.
    var limitExceeded: LimitExceeded?
}

/// The limits of issue 15 point 6, told apart for the exit status (point 9).
enum LimitExceeded: Equatable {
    case speed, maxTime, maxFileSize

    init?(_ error: any Error) {
        switch error {
        case DownloadError.tooSlow: self = .speed
        case DownloadError.maxTimeExceeded: self = .maxTime
        case DownloadError.tooLarge: self = .maxFileSize
        default: return nil
        }
    }
}

/// Shared by every job of a run: the client, the disk workers, the progress board, and the
/// names already taken (two URLs ending in the same name must not write one file).
final class RunContext: @unchecked Sendable {  // used by the tasklets of one loop only
    let plan: Plan
    let client: Client
    let disk: WorkerPool
    let board: ProgressBoard
    /// Aligned write buffers shared by the run's files.
    let buffers = AlignedBufferPool(limit: 16)
    /// O_DIRECT unless the file is hashed right after (a checksum, --json): the hash then reads
    /// from the page cache instead of the disk (measured: 0.6 s instead of 2.8 s for 1 GiB).
    func writesDirect(_ entry: DownloadEntry) -> Bool { entry.checksum == nil && !plan.json }
    /// Finished files are made durable and renamed in batches.
    let commits: GroupCommit
    private var claimedPaths: Set<String> = []
    /// The next suffix to try for a name (`claimFree`).
    private var nextSuffix: [String: Int] = [:]

    init(plan: Plan, client: Client, disk: WorkerPool, board: ProgressBoard) {
        self.plan = plan
        self.client = client
        self.disk = disk
        self.board = board
        commits = GroupCommit(disk: disk)
    }

    /// `name` in the entry's directory (dir=, else -d), or as it is.
    func path(_ name: String, for entry: DownloadEntry) -> String {
        guard let directory = entry.directory, !directory.isEmpty else { return name }
        return Plan.join(directory, name)
    }

    /// `path` for a download of this run, even if another download of the run has it (-o, or
    /// a -c that continues PATH.part).
    func claimExact(_ path: String) -> String {
        claimedPaths.insert(path)
        return path
    }

    /// A name the server (or the URL) chose: `path`, or `path.1`, `path.2`, ... (wget's rule)
    /// when another download of this run has it. Whether a file of that name is on disk
    /// already (PATH, or PATH.part or its meta: another download's, never to be emptied) is
    /// checked where PATH.part is made, on a disk worker (`PartFile.opened`, `exclusive`): it
    /// throws `PartFileError.exists`, and the caller asks `nextFree`. No system call here.
    func claimFree(_ path: String) -> String {
        var candidate = path
        if claimedPaths.contains(candidate) {
            // From the last suffix given for this name: many URLs with one name cost one step each.
            var suffix = nextSuffix[path] ?? 1
            repeat {
                candidate = "\(path).\(suffix)"
                suffix += 1
            } while claimedPaths.contains(candidate)
            nextSuffix[path] = suffix
        }
        claimedPaths.insert(candidate)
        return candidate
    }

    /// The name after `taken` in the `.1`, `.2` sequence that is free (for a rename that found
    /// `taken` made meanwhile).
    func nextFree(after taken: String, base: String) -> String {
        claimedPaths.insert(taken)
        return claimFree(base)
    }

    /// Something (a file, a directory, a link, even a dangling one) has this name.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}

/// One URL: picks the file name, resumes PATH.part with -c, downloads through `Downloader`,
/// keeps PATH.part.meta true all along (`ResumeCheckpoints`), verifies on the disk workers,
/// and has `GroupCommit` flush and rename it to PATH. Every file system call of the file's
/// path (open, meta, writes of a small file, fdatasync, rename) runs on a disk worker: the
/// loop only moves bytes from the network. Loop-thread only.
final class DownloadJob: DownloadBufferLending, DownloadReadBack {
    /// How often the meta is brought up to date while bytes arrive.
    static let checkpointInterval: Duration = .seconds(1)

    private let url: HTTPURL
    private let entry: DownloadEntry
    private let context: RunContext
    private let downloader: Downloader
    /// -o -: where the body goes instead of PATH.part.
    private let standardOutput: StandardOutput?
    private var stdoutSink: StandardOutputSink?
    private var file: PartFile?
    private var checkpoints: ResumeCheckpoints?
    /// Why PATH.part could not be opened, thrown at the first write.
    private var openError: (any Error)?
    /// The last error of the disk (a full disk is told apart from other failures).
    private var storageError: PartFileError?
    /// --no-clobber found the name the server chose taken: the download is skipped.
    private var skippedExisting: String?
    private var bar: ProgressBoard.Entry?
    /// For --json: when the job started, the first response head, and the retries' reasons.
    private let startedAt = ContinuousClock.now
    private var firstByteSeconds: Double?
    private var retryReasons: [String] = []
    /// -N found this file: the request is conditional, and a 200 replaces it (as -o would).
    private let timestampTarget: String?
    /// The reservation of the .part's blocks under way on a disk worker: the first write waits
    /// for it (as it did when the loop made it), so the file's blocks are laid out in one go.
    private var reservation: TaskletHandle<Void>?
    /// PATH.part being opened on a disk worker (from the first response head): the writes wait
    /// for it; the loop receives meanwhile.
    private var opening: TaskletHandle<Void>?
    /// Called (once or more) when the download no longer needs the network: its file is
    /// complete and waits for its batch (`GroupCommit`), so the run may start another one.
    var networkDone: (() -> Void)?

    /// - Parameter standardOutput: with -o -, the run's standard output: the body goes there.
    init(entry: DownloadEntry, context: RunContext, standardOutput: StandardOutput? = nil) {
        url = entry.url
        self.entry = entry
        self.context = context
        self.standardOutput = standardOutput
        var options = context.plan.download
        options.headers += entry.headers
        var target: String?
        if context.plan.timing.timestamping && standardOutput == nil,
            let known = entry.output ?? FileNaming.name(for: entry.url).map({ context.path($0, for: entry) }),
            let condition = KeptValidators.condition(forFileAt: known)
        {
            options.condition = condition
            target = known
        }
        timestampTarget = target
        downloader = Downloader(client: context.client, options: options)
    }

    // The sink: forwards to PATH.part once its name is known (at the first response head).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) async throws {
        await fileOpened()
        guard let file, let checkpoints else { throw openError ?? PartFileError("no file to write to") }
        await reservationDone()
        try await recordingStorageErrors {
            try await checkpoints.beforeWrite()
            try await file.write(bytes, at: offset)
        }
    }

    func discardAll() async throws {
        await fileOpened()
        guard let checkpoints else { return }
        try await recordingStorageErrors { try await checkpoints.discardAll() }
    }

    func lendBuffer(for offset: UInt64, maxBytes: Int) async throws -> UnsafeMutableRawBufferPointer? {
        await fileOpened()
        guard let file, let checkpoints else { throw openError ?? PartFileError("no file to write to") }
        await reservationDone()
        return try await recordingStorageErrors {
            try await checkpoints.beforeWrite()
            return try await file.lendBuffer(for: offset, maxBytes: maxBytes)
        }
    }

    func commitLent(_ count: Int, at offset: UInt64) async throws {
        guard let file else { throw openError ?? PartFileError("no file to write to") }
        try await recordingStorageErrors { try await file.commitLent(count, at: offset) }
    }

    func storedBytes(at offset: UInt64, count: Int) async throws -> [UInt8] {
        await fileOpened()
        guard let file, let checkpoints else { throw openError ?? PartFileError("no file to read from") }
        // Bytes still gathered in the writer's buffers (O_DIRECT) are in the file first.
        try await checkpoints.writeOut()
        return try await context.disk.callAsync("read \(file.partPath)") { _ in try file.readStored(at: offset, count: count) }
    }

    private func recordingStorageErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PartFileError {
            storageError = error
            throw error
        }
    }

    /// Opens PATH.part (on a disk worker) and starts keeping its meta.
    /// - Parameter exclusive: the name is the server's choice: PATH.part must be new.
    /// - Parameter smallInOrder: a fresh file of known length below the writer's buffer,
    ///   fetched by one connection: it gets no meta unless it stops unfinished
    ///   (`ResumeCheckpoints.deferred`).
    private func openFile(_ path: String, keep: Bool, exclusive: Bool = false, smallInOrder: Bool = false) async throws {
        let opened = try await PartFile.opened(
            path: path, keep: keep, exclusive: exclusive, disk: context.disk, buffers: context.buffers,
            direct: context.writesDirect(entry))
        let downloader = downloader
        let checkpoints = ResumeCheckpoints(file: opened, url: url, disk: context.disk, deferred: smallInOrder && !keep) {
            downloader.resumeState
        }
        checkpoints.startPeriodic(every: Self.checkpointInterval)
        file = opened
        self.checkpoints = checkpoints
    }

    /// Waits for PATH.part's opening under way, if any (its error, if any, is `openError`).
    private func fileOpened() async {
        guard let opening else { return }
        _ = try? await opening.value
    }

    /// Whether a download that just got its first response head is small and in order: a fresh
    /// file (no -c), whose known length is below the writer's buffer, by one connection.
    private func smallInOrder(total: UInt64?, stored: UInt64) -> Bool {
        guard let total, stored == 0, !context.plan.resume, context.plan.download.connections == 1 else { return false }
        return total < UInt64(DirectWriter.bufferSize)
    }

    func run() async -> JobReport {
        let plan = context.plan
        let start = ContinuousClock.now
        var report = JobReport(url: url.description)
        // The name from -o (out=) or the URL, fixed before any request so that -c can find PATH.part.
        var path = entry.output ?? FileNaming.name(for: url).map { context.path($0, for: entry) }
        if let standardOutput {
            do {
                stdoutSink = StandardOutputSink(
                    output: standardOutput, bufferLimit: plan.stdoutBufferLimit, tailLength: plan.download.resumeOverlap,
                    digest: try entry.checksum.map { try RunningDigest($0.algorithm) })
            } catch {
                return fail(report: &report, error: error, start: start)
            }
            path = nil
        }
        var resume: ResumeState?
        if plan.noClobber, let known = path, RunContext.exists(known) {
            return skip(report: &report, existing: known, start: start)
        }
        do {
            if plan.resume, let known = path {
                let urlText = url.description
                switch try await context.disk.callAsync("inspect \(known)", { _ in PartFile.inspect(path: known, url: urlText) }) {
                case .nothing:
                    break
                case .resumable(let meta):
                    resume = meta.resumeState
                    try await openFile(context.claimExact(known), keep: true)
                case .inOrder(let size):
                    // Compared with the server's bytes before it is continued (resumeOverlap).
                    resume = ResumeState(remaining: [ByteSpan(next: size, end: nil)])
                    try await openFile(context.claimExact(known), keep: true)
                case .untrusted(let reason):
                    context.board.note("\(lastComponent(known)): \(reason); starting over")
                    try await openFile(context.claimExact(known), keep: false)
                }
                path = file?.path ?? path
            }
        } catch {
            return fail(report: &report, error: error, start: start)
        }
        let label =
            stdoutSink != nil ? (FileNaming.name(for: url) ?? url.description) + " -> stdout" : path.map(lastComponent) ?? url.description
        let bar = context.board.add(label)
        self.bar = bar
        do {
            let sink: DownloadSink = stdoutSink ?? self
            let result = try await downloader.run(url: url, sink: sink, resume: resume) { [self] event in
                handle(event)
            }
            await fileOpened()
            await checkpoints?.stop()
            if result.notModified {
                report.outcome = .upToDate
                report.path = timestampTarget
                report.seconds = seconds(ContinuousClock.now - start)
                bar.active = false
                context.board.note("\(label): up to date (the server answered 304 Not Modified)")
                return report
            }
            report.path = file?.path
            report.bytes = result.totalBytes
            report.retries = result.retries
            report.resumedFrom = result.resumedFrom
            summarize(&report)
            try await finish(&report, result)
            report.seconds = seconds(ContinuousClock.now - start)
            bar.active = false
            if report.outcome == .succeeded {
                var extra = report.resumedFrom > 0 ? ", resumed from \(formatBytes(report.resumedFrom))" : ""
                if let stdoutSink, plan.download.connections > 1 {
                    extra += ", at most \(stdoutSink.peakPendingBytes) bytes held out of order (--stdout-buffer \(stdoutSink.bufferLimit))"
                }
                context.board.note(
                    "\(stdoutSink != nil ? label : lastComponent(report.path ?? label)): done, \(formatBytes(report.bytes)) in \(format3(report.seconds, decimals: 1)) s (\(formatBytes(UInt64(Double(result.bytesFetched) / max(report.seconds, 0.001))))/s)"
                        + extra)
            }
            return report
        } catch {
            bar.active = false
            await fileOpened()
            report.retries = downloader.retryCount
            if let skippedExisting { return skip(report: &report, existing: skippedExisting, start: start) }
            if case DownloadError.tooLarge = error, let file {
                // Bytes of a file refused as too large are no start for a later -c.
                await checkpoints?.stop()
                await file.remove()
                checkpoints = nil
                self.file = nil
            } else if let checkpoints {
                // Keep what arrived: on disk, then claimed by the meta. In a tasklet of its own,
                // so that a Ctrl-C (this tasklet is cancelled) cannot stop it halfway; a kill
                // (or a second Ctrl-C) halfway leaves the previous meta, which is still true.
                let saving = Loop.current?.spawn(name: "save \(label)") {
                    await checkpoints.stop()
                    try await checkpoints.checkpoint(final: true)
                }
                _ = try? await saving?.value
            }
            return fail(report: &report, error: error, start: start)
        }
    }

    private func handle(_ event: DownloadEvent) {
        switch event {
        case .started(let total, let stored, let finalURL, let suggested):
            if firstByteSeconds == nil { firstByteSeconds = seconds(ContinuousClock.now - startedAt) }
            if file == nil && opening == nil && openError == nil && stdoutSink == nil {
                let small = smallInOrder(total: total, stored: stored)
                // In a tasklet of its own, not cancelled with the job: the open's descriptor
                // is always taken (and closed with the file).
                nonisolated(unsafe) let job = self  // the tasklet runs on this loop's thread, as the job does
                opening = Loop.current?.spawn(name: "open for \(url)") {
                    do {
                        try await job.openChosenFile(suggested: suggested, finalURL: finalURL, small: small)
                    } catch {
                        job.openError = error  // thrown by the first write: the download stops with it
                    }
                    if let total, total >= 8 << 20, let file = job.file { job.reserveInBackground(file, total) }
                }
            } else if let total, total >= 8 << 20, let file {
                reserveInBackground(file, total)
            }
            bar?.total = total
            bar?.received = stored
        case .received(let bytes):
            bar?.received += UInt64(bytes)
        case .retrying(let attempt, let error, let delay):
            retryReasons.append(error)
            context.board.note(
                "\(bar?.label ?? url.description): \(error); retry \(attempt)/\(context.plan.download.retries) in \(format3(seconds(delay), decimals: 1)) s"
            )
        case .restarted(let reason):
            bar?.received = 0
            context.board.note("\(bar?.label ?? url.description): \(reason); starting over")
        }
    }

    /// Opens PATH.part for the first response: -o's name, or the server's (or the URL's) in the
    /// entry's directory, the next free one if taken.
    private func openChosenFile(suggested: String?, finalURL: HTTPURL, small: Bool) async throws {
        if let output = entry.output ?? timestampTarget {
            return try await openFile(context.claimExact(output), keep: false, smallInOrder: small)
        }
        let name = context.path(suggested.flatMap(FileNaming.safe) ?? FileNaming.name(for: finalURL) ?? "index.html", for: entry)
        if context.plan.noClobber && RunContext.exists(name) {
            skippedExisting = name
            throw PartFileError("\(name) exists (--no-clobber)")
        }
        // A .part made by someone else meanwhile (O_EXCL says so): the next name.
        var candidate = context.claimFree(name)
        while true {
            do {
                return try await openFile(candidate, keep: false, exclusive: true, smallInOrder: small)
            } catch let error as PartFileError where error.errno == EEXIST {
                candidate = context.nextFree(after: candidate, base: name)
            }
        }
    }

    /// Reserves `file`'s blocks on a disk worker: fallocate can take long (on tmpfs it zeroes
    /// every page: 0.4-0.7 s for 1 GiB held the loop, and every other download with it).
    /// Best effort, like the reservation itself; the first write waits for it (other downloads
    /// and the progress display run meanwhile). The worker gets a `dup` of the descriptor: the
    /// file's own may be closed by a commit before it runs.
    private func reserveInBackground(_ file: PartFile, _ total: UInt64) {
        let fd = dup(file.fd)
        guard fd >= 0 else { return }
        let (disk, name) = (context.disk, file.partPath)
        reservation = Loop.current?.spawn(name: "reserve \(name)") {
            do {
                // The job closes the duplicate: a cancelled call returns at once while its job runs on.
                try await disk.callAsync("fallocate \(name)") { _ in
                    defer { close(fd) }
                    PartFile.reserve(total, fd: fd)
                }
            } catch is WorkerPoolError {
                close(fd)  // never queued: no job will close it
            } catch {}  // best effort
        }
    }

    /// Waits for the reservation under way, if any (it never fails: it is best effort).
    private func reservationDone() async {
        guard let pending = reservation else { return }
        reservation = nil
        _ = try? await pending.value
    }

    /// Flush, verify, rename: the file appears under its name only when all of it is right.
    private func finish(_ report: inout JobReport, _ result: DownloadResult) async throws {
        if let stdoutSink { return try finishStandardOutput(stdoutSink, &report) }
        guard let file, let checkpoints else { throw openError ?? PartFileError("the server sent no body") }
        let plan = context.plan
        // Bytes past the end (a longer .part kept for a resume) belong to no version of the file.
        let length = report.bytes
        // Hashed from the .part after its last byte: a resume's kept bytes (-c) and every
        // segment's (-x) count like the new ones. One read pass for every digest wanted.
        var algorithms = Set<DigestAlgorithm>()
        if let checksum = entry.checksum { algorithms.insert(checksum.algorithm) }
        if plan.json { algorithms.insert(.sha256) }
        let (lastModified, etag, remoteTime) = (result.lastModified, result.etag, plan.timing.remoteTime)
        let replacing = entry.output != nil || timestampTarget != nil
        let removeMeta = checkpoints.wroteMeta || file.kept || file.replacedOldMeta
        let base = file.path
        if algorithms.isEmpty {
            // Nothing to read back: the last bytes, the length, the times and the fdatasync in
            // one disk job (a small file's one hand-off), then the name in the next batch.
            try await recordingStorageErrors {
                try await file.writeGathered {
                    try file.setLength(length)
                    KeptValidators.record(fd: file.fd, lastModified: lastModified, etag: etag, remoteTime: remoteTime)
                    try file.syncToDisk()
                }
            }
            networkDone?()
            report.path = try await recordingStorageErrors {
                try await context.commits.renameSynced(file, replacing: replacing, removeMeta: removeMeta) { [context] taken in
                    context.nextFree(after: taken, base: base)
                }
            }
            return
        }
        // Every byte into the file (synced below, after the digest), then its length set.
        try await recordingStorageErrors { try await file.writeGathered() }
        let partPath = file.partPath
        let digests = try await context.disk.callAsync("digest \(partPath)") { [algorithms] _ in
            try file.setLength(length)
            return try FileDigest.digests(ofFile: partPath, algorithms)
        }
        report.sha256 = digests[.sha256].map(hex)
        if let checksum = entry.checksum, let digest = digests[checksum.algorithm], digest != checksum.expected {
            report.outcome = .checksumMismatch
            report.path = partPath
            // Kept for a look, not to be continued: a small file had no meta, and -c would
            // otherwise take its size as bytes already checked.
            if !checkpoints.wroteMeta { try await recordingStorageErrors { try await checkpoints.disown() } }
            let error =
                "checksum mismatch: expected \(checksum.algorithm.rawValue) \(hex(checksum.expected)), got \(hex(digest)); the data is kept in \(partPath)"
            report.error = error
            context.board.error("netget: \(url): \(error)")
            return
        }
        networkDone?()
        let committed = try await recordingStorageErrors {
            try await context.commits.commit(
                file, replacing: replacing, removeMeta: removeMeta,
                beforeSync: {
                    // Kept through the rename: the server's time as mtime, the ETag for the next -N.
                    KeptValidators.record(fd: file.fd, lastModified: lastModified, etag: etag, remoteTime: remoteTime)
                }
            ) { [context] taken in
                context.nextFree(after: taken, base: base)
            }
        }
        report.path = committed
    }

    /// The body is all on standard output: check that nothing is left behind, and the digest.
    private func finishStandardOutput(_ sink: StandardOutputSink, _ report: inout JobReport) throws {
        guard sink.pendingBytes == 0, sink.emitted == report.bytes else {
            throw PartFileError("\(sink.emitted) of \(report.bytes) bytes reached standard output")
        }
        guard let checksum = entry.checksum, let digest = sink.digest?.finish() else { return }
        if checksum.algorithm == .sha256 { report.sha256 = hex(digest) }
        if digest != checksum.expected {
            report.outcome = .checksumMismatch
            let error =
                "checksum mismatch: expected \(checksum.algorithm.rawValue) \(hex(checksum.expected)), got \(hex(digest)); the bytes are already on standard output"
            report.error = error
            context.board.error("netget: \(url): \(error)")
        }
    }

    /// The --json fields the downloader knows, on any ending.
    private func summarize(_ report: inout JobReport) {
        report.status = downloader.lastStatus
        report.finalURL = downloader.lastURL?.description
        report.firstByteSeconds = firstByteSeconds
        report.retryReasons = retryReasons
        report.timings = downloader.firstTimings
    }

    private func skip(report: inout JobReport, existing: String, start: ContinuousClock.Instant) -> JobReport {
        report.seconds = seconds(ContinuousClock.now - start)
        report.path = existing
        report.outcome = .skipped
        context.board.note("\(existing) exists; skipped (--no-clobber)")
        return report
    }

    private func fail(report: inout JobReport, error: any Error, start: ContinuousClock.Instant) -> JobReport {
        report.seconds = seconds(ContinuousClock.now - start)
        summarize(&report)
        // Where the data is: PATH.part (PATH itself appears only for a finished download).
        report.path = file?.partPath
        report.bytes = checkpoints?.saved?.storedBytes ?? 0
        if error is CancellationError {
            report.outcome = .interrupted
            report.error = "interrupted"
            if let file { context.board.error("netget: \(url): interrupted; run again with -c to continue from \(file.partPath)") }
            if let stdoutSink {
                context.board.error("netget: \(url): interrupted; at least \(stdoutSink.emitted) bytes of it reached standard output")
            }
            return report
        }
        report.outcome = .failed
        report.failure = ExitStatus.of(error, storage: storageError ?? openError as? PartFileError)
        report.limitExceeded = LimitExceeded(error)
        if let failure = standardOutput?.failure {
            report.outcome = .outputFailed
            report.error = "\(failure)"
            context.board.error("netget: \(url): \(failure)")
            return report
        }
        let diskFull = storageError?.errno == ENOSPC || (error as? PartFileError)?.errno == ENOSPC
        if diskFull, let file {
            report.error = "disk full: cannot write \(file.partPath); \(missingBytes) (free some space, then run again with -c to continue)"
            context.board.error("netget: \(url): \(report.error ?? "")")
            return report
        }
        let explanation = Self.explain(error)
        report.error = explanation
        var line = "netget: \(url): \(explanation)"
        if let file, (checkpoints?.saved?.storedBytes ?? 0) > 0 {
            line += "; the partial download is in \(file.partPath) (run again with -c to continue)"
        }
        context.board.error(line)
        return report
    }

    /// "N bytes still missing" from what the meta on disk claims.
    private var missingBytes: String {
        let saved = checkpoints?.saved
        let stored = saved?.storedBytes ?? 0
        guard let total = saved?.totalLength else { return "\(stored) bytes are stored, the rest is missing" }
        return "\(total - min(stored, total)) of \(total) bytes still missing"
    }

    /// One line a person can act on.
    static func explain(_ error: any Error) -> String {
        switch error {
        case HTTPClientError.timedOut(.idle, let limit): return "no data for \(limit) (raise --timeout, or retry later)"
        case HTTPClientError.timedOut(.head, let limit):
            return "no complete response head within \(limit) (raise --timeout, or retry later)"
        case HTTPClientError.timedOut(.connect, let limit):
            return "could not connect within \(limit) (check the host, or raise --connect-timeout)"
        case HTTPClientError.tls(let tls): return "\(tls)"
        case HTTPClientError.resolve(let resolve): return "\(resolve) (check the host name)"
        case DownloadError.httpStatus(404, _, _): return "the server answered 404 Not Found (check the URL)"
        case DownloadError.tooSlow: return "\(error) (--speed-limit, --speed-time), on every try"
        case DownloadError.maxTimeExceeded: return "\(error) (--max-time)"
        case DownloadError.tooLarge: return "\(error) (--max-filesize)"
        default: return "\(error)"
        }
    }
}

func lastComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}
