import NetCore
import Workers

/// Makes finished downloads durable, then gives them their names in batches (issue 15 point 11).
///
/// A file handed to `commit` is synced at once: its `fdatasync` runs on a disk worker while
/// the other downloads go on, in parallel with the other files' (ext4 folds concurrent ones
/// into one journal commit), so a file's disk work overlaps the network instead of waiting
/// for a batch. Once its bytes are on disk it joins the next rename batch. A batch runs as
/// soon as the one before it has ended (at once when none is running, so a lone file waits
/// for nothing): the renames, then one `fsync` per directory the batch renamed into. So a
/// renamed file always has every byte on disk before its name is; a kill or a power cut
/// before a file's rename leaves its .part, which `-c` continues or restarts. A batch holds
/// at most `maxBatch` files.
///
/// Cost per file: one disk job (length, times, fdatasync); per batch, one job for all its
/// renames and directory fsyncs. Loop-thread only; the jobs run on the run's disk workers.
final class GroupCommit: @unchecked Sendable {  // the run's loop thread only; workers see only their job's files
    /// Files in one rename batch at most: bounds how long a batch's renames hold a worker.
    static let maxBatch = 64
    /// Files syncing or waiting for a rename at most (each holds a descriptor): a further one
    /// waits for a place, so downloads that outrun the disk slow down instead of piling up.
    static let maxPending = 256

    /// A file waiting for its rename batch.
    private final class Pending: @unchecked Sendable {  // loop thread, then its batch's job while the loop waits for it
        let file: PartFile
        var target: String
        let replacing: Bool
        let removeMeta: Bool
        var outcome: PartFile.RenameOutcome?
        let done = NetCore.Event()
        init(file: PartFile, target: String, replacing: Bool, removeMeta: Bool) {
            self.file = file
            self.target = target
            self.replacing = replacing
            self.removeMeta = removeMeta
        }
    }

    private let disk: WorkerPool
    private let places = NetCore.Semaphore(GroupCommit.maxPending)
    private var waiting: [Pending] = []
    private var running = false

    init(disk: WorkerPool) { self.disk = disk }

    /// Makes `file` durable with the files that finish about when it does, then renames it.
    /// Not cancellable: a Ctrl-C meanwhile waits for the batch (a few milliseconds), so the
    /// answer says what is on disk.
    /// - Parameters:
    ///   - replacing: PATH may be replaced (-o); else RENAME_NOREPLACE, and `nextFreeName`
    ///     picks the next name when PATH was made meanwhile.
    ///   - removeMeta: a .part.meta may be beside it (it goes after the rename).
    ///   - beforeSync: runs on the disk worker just before the file's fdatasync (setting the
    ///     length and times): what it changes is synced with the bytes.
    /// - Returns: the path the file now has.
    /// - Throws: `PartFileError` (a failed sync or rename: the file stays PATH.part);
    ///   `CancellationError` while it waits for a place (`maxPending`): nothing was done then.
    func commit(
        _ file: PartFile, replacing: Bool, removeMeta: Bool, beforeSync: @escaping @Sendable () throws -> Void = {},
        nextFreeName: (String) -> String
    ) async throws -> String {
        try await places.acquire()
        defer { places.release() }
        // 1. This file's bytes (and length, times) on disk now, beside the other downloads. In
        // a tasklet of its own: a Ctrl-C meanwhile waits for the sync (milliseconds), so the
        // answer says what is on disk.
        let disk = disk
        let synced = await uncancellableResult {
            try await disk.callAsync("fdatasync \(file.partPath)") { _ in
                try beforeSync()
                try file.syncToDisk()
            }
        }
        if case .failure(let error) = synced { throw error as? PartFileError ?? PartFileError("\(error)") }
        // 2. Its name, with the other files synced meanwhile.
        return try await renameSynced(file, replacing: replacing, removeMeta: removeMeta, nextFreeName: nextFreeName)
    }

    /// Gives `file`, whose bytes, length and times are on disk already (its own fdatasync has
    /// returned), its name in the next rename batch, as `commit` does after its sync.
    /// - Returns: the path the file now has.
    /// - Throws: `PartFileError` (a failed rename: the file stays PATH.part).
    func renameSynced(_ file: PartFile, replacing: Bool, removeMeta: Bool, nextFreeName: (String) -> String) async throws
        -> String
    {
        let pending = Pending(file: file, target: file.path, replacing: replacing, removeMeta: removeMeta)
        waiting.append(pending)
        if !running {
            running = true
            guard let loop = Loop.current else { throw LoopError.notOnLoopThread("GroupCommit.commit") }
            loop.spawn(name: "group commit") { [self] in await runBatches() }
        }
        while true {
            // The batch tasklet sets `done` whatever happens, so this wait ends; it is in a
            // tasklet of its own, so a cancellation of the caller does not end it early.
            let done = pending.done
            if !done.isSet {
                guard let waiter = Loop.current?.spawn(name: "commit wait", { _ = try await done.wait(timeout: nil) }) else {
                    throw LoopError.notOnLoopThread("GroupCommit.commit")
                }
                do {
                    try await waiter.value
                } catch {
                    throw PartFileError("cannot wait for the commit of \(file.partPath): \(error)")
                }
            }
            switch pending.outcome {
            case .renamed(let path): return path
            case .failed(let error): throw error
            case .taken(let taken):
                // Someone made PATH meanwhile: never replace it; the next name, alone (rare).
                pending.target = nextFreeName(taken)
                pending.outcome = nil
                pending.done.clear()
                let request = pending
                let outcome = await uncancellable { [disk] in
                    try await disk.callAsync("rename \(request.file.partPath)") { _ in Self.rename([request]) }
                }
                pending.outcome = outcome?.first ?? .failed(PartFileError("the rename of \(file.partPath) did not run"))
                pending.done.set()
            case nil:
                throw PartFileError("internal: the commit of \(file.partPath) ended without an outcome")
            }
        }
    }

    /// Runs batches until no file waits.
    private func runBatches() async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(Self.maxBatch))
            waiting.removeFirst(batch.count)
            await run(batch)
        }
        running = false
    }

    /// Renames a batch of synced files, then fsyncs their directories, in one disk job.
    private func run(_ batch: [Pending]) async {
        let outcomes = try? await disk.callAsync("rename \(batch.count) files") { _ in Self.rename(batch) }
        for (index, pending) in batch.enumerated() {
            pending.outcome = outcomes?[index] ?? .failed(PartFileError("the rename of \(pending.file.partPath) did not run"))
            pending.done.set()
        }
    }

    /// Renames each file to its target, then fsyncs each directory that got one. Blocks: a
    /// disk worker's job.
    private static func rename(_ files: [Pending]) -> [PartFile.RenameOutcome] {
        var directories: Set<String> = []
        let outcomes = files.map { pending in
            let outcome = pending.file.renameToFinal(pending.target, replacing: pending.replacing, removeMeta: pending.removeMeta)
            if case .renamed = outcome { directories.insert(PartFile.directory(of: pending.target)) }
            return outcome
        }
        // Best effort, as before: a directory that cannot be synced leaves the renames to the
        // kernel's own writeback; every renamed file's bytes are on disk already.
        for directory in directories { PartFile.syncDirectory(directory) }
        return outcomes
    }
}

/// Runs `body` in a tasklet of its own and waits for it: a cancellation of the caller does not
/// reach it. - Returns: its value, nil if it threw or could not start.
func uncancellable<T: Sendable>(_ body: sending @escaping () async throws -> T) async -> T? {
    guard let handle = Loop.current?.spawn(name: "uncancellable", body) else { return nil }
    return try? await handle.value
}

/// Runs `body` in a tasklet of its own and waits for it, as `uncancellable`, keeping its error.
/// - Returns: its result; a failure with `LoopError.notOnLoopThread` off a loop's thread.
func uncancellableResult<T: Sendable>(_ body: sending @escaping () async throws -> T) async -> Result<T, any Error> {
    guard let handle = Loop.current?.spawn(name: "uncancellable", body) else {
        return .failure(LoopError.notOnLoopThread("uncancellable"))
    }
    do { return .success(try await handle.value) } catch { return .failure(error) }
}
