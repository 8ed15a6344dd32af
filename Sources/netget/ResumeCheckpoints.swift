import HTTPClient
import NetCore
import Workers

/// Keeps PATH.part.meta true at every moment, so that a kill (-9, -HUP, a power cut) anywhere
/// leaves a .part that `-c` continues byte-exact or refuses.
///
/// The rule: the meta claims a byte only once it is on disk. A checkpoint takes the download's
/// state (every byte it counts was handed to the file) less the bytes the writer still gathers
/// in its buffers, makes the file durable (the direct writes begun before waited for,
/// fdatasync), and only then replaces the meta (`PartFile.writeMeta`: temporary file, fdatasync, rename, directory
/// fsync). Bytes that arrive meanwhile are simply not claimed yet.
///
/// A meta is written before the first body byte of a file (and again after a restart empties
/// it), then every `interval` while the download runs, and once more when it stops. One
/// checkpoint at a time; emptying the file waits for the one under way.
///
/// Except for a small file fetched in one piece (`deferred`): its bytes stay in the writer's
/// buffer until the download has ended and then go to the file in one write from byte 0, so
/// the .part is at every moment empty or a prefix of the body, which `-c` continues from its
/// size (after comparing the bytes before it with the server's: `PartFile.Found.inOrder`) as
/// it would any .part written in order. Such a file gets no meta unless it stops unfinished
/// (the last checkpoint then claims what arrived), which saves an inode per file.
///
/// Loop-thread only: the tasklets of one download.
final class ResumeCheckpoints: @unchecked Sendable {  // the download's loop thread only
    private let file: PartFile
    private let url: HTTPURL
    private let disk: WorkerPool
    private let state: () -> ResumeState
    private let turn = NetCore.Semaphore(1)
    /// False until a meta for the file's present contents is on disk: the next byte waits.
    private var metaIsCurrent = false
    private let stopRequested = NetCore.Event()
    private var periodic: TaskletHandle<Void>?
    /// The state the meta on disk has now, nil before the first.
    private(set) var saved: ResumeState?
    /// The meta on disk (or one just removed) claims bytes: its successor must be durable even
    /// if it claims none, or a power cut could bring the old one back beside other bytes.
    private var previousClaimsBytes: Bool
    /// No meta before the first byte, nor periodic ones (see the type): only a last one if the
    /// download stops unfinished.
    let deferred: Bool
    /// A meta was (or may have been: a write that failed halfway) written by this run.
    private(set) var wroteMeta = false

    /// - Parameter state: the download's state now (`Downloader.resumeState`).
    /// - Parameter deferred: the file is fetched fresh, in order, by one connection, and is
    ///   smaller than the writer's buffer (`DirectWriter.bufferSize`), with no old meta removed
    ///   (whose successor must be durable): no meta unless it stops unfinished.
    init(file: PartFile, url: HTTPURL, disk: WorkerPool, deferred: Bool = false, state: @escaping () -> ResumeState) {
        self.file = file
        self.url = url
        self.disk = disk
        self.state = state
        previousClaimsBytes = file.replacedOldMeta || file.kept
        self.deferred = deferred && !previousClaimsBytes
    }

    /// Call before handing body bytes to the file: writes the first meta if there is none yet
    /// (not for a `deferred` file).
    /// - Throws: `PartFileError` (the byte must then not be written), `CancellationError`.
    func beforeWrite() async throws {
        if metaIsCurrent || deferred { return }
        try await checkpoint()
    }

    /// One checkpoint (see the type). - Throws: `PartFileError`; the old meta then stays.
    ///
    /// A meta that claims no byte protects nothing on a power cut (the bytes written after it
    /// are not on disk either until the next checkpoint syncs them): it is written without
    /// fdatasync and directory fsync, which keeps a small file as cheap as before. It is there
    /// for a killed process, whose page cache stays: -c then never trusts the .part's size.
    ///
    /// It runs in a tasklet of its own, which a cancelled caller does not cancel: a meta write
    /// abandoned halfway on a disk worker would race the next checkpoint's on the same
    /// temporary name. The next checkpoint waits for this one's turn to end.
    /// - Parameter final: the download has stopped: write out what the writer still gathers
    ///   first, so that the meta claims every byte that arrived.
    func checkpoint(final: Bool = false) async throws {
        guard let loop = Loop.current else { throw LoopError.notOnLoopThread("checkpoint") }
        try await loop.trySpawn(name: "checkpoint \(file.partPath)") { [self] in try await checkpointNow(final: final) }.value
    }

    private func checkpointNow(final: Bool) async throws {
        try await turn.acquire()
        defer { turn.release() }
        if final { try await file.writeGathered() }
        let snapshot = Self.unclaiming(file.gatheredRanges, from: state())
        let claimsBytes = snapshot.storedBytes > 0
        let durable = claimsBytes || previousClaimsBytes
        if durable { try await file.makeDurable(disk: disk) }
        try await save(snapshot, claimsBytes: claimsBytes)
        metaIsCurrent = true
    }

    /// Writes the meta of `state` on a disk worker: durable if it or the meta before it claims
    /// bytes, else in place. The caller holds the turn.
    private func save(_ state: ResumeState, claimsBytes: Bool) async throws {
        let meta = ResumeMeta(state, url: url)
        let file = file
        let durable = claimsBytes || previousClaimsBytes
        // Before the write: one that fails after its rename (the directory's fsync) may have
        // put a meta that claims bytes in place all the same.
        previousClaimsBytes = durable
        wroteMeta = true
        try await disk.callAsync("meta \(file.metaPath)") { _ in try file.writeMeta(meta, durable: durable) }
        saved = state
        previousClaimsBytes = claimsBytes
    }

    /// `state` with `ranges` (start, end exclusive) added to what is missing, merged in order.
    static func unclaiming(_ ranges: [(start: UInt64, end: UInt64)], from state: ResumeState) -> ResumeState {
        guard !ranges.isEmpty else { return state }
        var spans = state.remaining + ranges.filter { $0.end > $0.start }.map { ByteSpan(next: $0.start, end: $0.end - 1) }
        spans.sort { $0.next < $1.next }
        var merged: [ByteSpan] = []
        for span in spans {
            if let last = merged.last, last.end.map({ $0 &+ 1 >= span.next }) ?? true {
                // Overlapping or adjacent: one span to the further end (nil: to the end).
                merged[merged.count - 1].end = last.end.flatMap { end in span.end.map { max(end, $0) } }
            } else {
                merged.append(span)
            }
        }
        var result = state
        result.remaining = merged
        return result
    }

    /// Empties the file (the download starts over); the next byte waits for a new meta.
    /// - Throws: `PartFileError`.
    func discardAll() async throws {
        try await turn.acquire()
        defer { turn.release() }
        metaIsCurrent = false
        // Nothing reached the file but in order, and no meta claims any of it: just empty it.
        if deferred && !wroteMeta { return try await file.discardAll() }
        // First a meta that claims nothing, then the truncation: the meta is never one that
        // claims bytes the file does not have.
        try await save(ResumeState(remaining: [ByteSpan(next: 0, end: nil)]), claimsBytes: false)
        try await file.discardAll()
    }

    /// A meta that claims no byte, for a file whose bytes are kept but not to be continued (a
    /// checksum mismatch): `-c` then starts over instead of trusting the .part's size.
    /// - Throws: `PartFileError`.
    func disown() async throws {
        try await turn.acquire()
        defer { turn.release() }
        try await save(ResumeState(remaining: [ByteSpan(next: 0, end: nil)]), claimsBytes: false)
    }

    /// Every byte taken so far is in the file, so that it can be read back (not synced).
    func writeOut() async throws {
        try await turn.acquire()
        defer { turn.release() }
        try await file.writeOut()
    }

    /// Starts a checkpoint every `interval` until `stop()`.
    func startPeriodic(every interval: Duration) {
        guard periodic == nil, !deferred else { return }
        periodic = Loop.current?.spawn(name: "checkpoints \(file.partPath)") { [self] in
            // The wait is the interval's timer: a stop wakes it at once.
            while !(try await stopRequested.wait(timeout: interval)) {
                // A failed checkpoint keeps the previous meta, which is still true; the write
                // that failed (a full disk) ends the download by itself.
                if metaIsCurrent { try? await checkpoint() }
            }
        }
    }

    /// Ends the periodic checkpoints and waits until none is under way (a checkpoint is never
    /// cancelled halfway: its meta write must not race the next one's).
    func stop() async {
        stopRequested.set()
        if let periodic { _ = try? await periodic.value }
        periodic = nil
    }
}
