import HTTPClient
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// PATH.part: where a download's bytes go until it is complete and verified; then it is
/// flushed to disk and renamed to PATH. Beside it, PATH.part.meta (`ResumeMeta`) says which
/// bytes of it are on disk, so that `-c` continues byte-exact after a kill at any moment.
///
/// Bytes go to disk through a `DirectWriter` (O_DIRECT, written by the disk workers while the
/// loop keeps receiving); where the file system refuses O_DIRECT, through plain `pwrite`s with
/// the kernel asked every 32 MiB to start writing back, so the final `fsync` finds little left.
///
/// Both files are opened with O_NOFOLLOW (a planted symbolic link is refused, never written
/// through) and created with O_EXCL; the mode is 0666 less the umask, as any new file's.
final class PartFile: @unchecked Sendable {  // used by one thread at a time: the loop, or a worker while the loop waits for it
    let path: String
    var partPath: String { path + ".part" }
    var metaPath: String { Self.metaPath(for: path) }
    private(set) var fd: Int32 = -1
    private let writer: DirectWriter
    private var unsyncedBytes = 0
    /// An old meta was removed when the file was opened: the next one must reach the disk
    /// before the bytes it lets in (or a power cut could bring the old one back).
    private(set) var replacedOldMeta = false
    /// Opened to continue (-c): the meta beside it may claim bytes.
    let kept: Bool

    static func metaPath(for path: String) -> String { path + ".part.meta" }

    /// Opens PATH.part on a disk worker (creating a file allocates an inode: on ext4 that was
    /// most of the loop thread's time with -j 16 of small files): emptied (and an old meta
    /// removed) unless `keep`, and locked against a second netget writing it (flock).
    /// - Parameter exclusive: PATH.part must be new (O_EXCL): for a name the server chose, whose
    ///   .part may be another download's. Then `PartFileError.exists` says it is taken.
    /// - Parameter direct: write with O_DIRECT (false when the file will be hashed right after).
    /// - Throws: `PartFileError` with the reason (taken, locked, a symbolic link, permissions);
    ///   `CancellationError` if the calling tasklet is cancelled (call it from one that is not:
    ///   the worker's descriptor would then be left open).
    static func opened(
        path: String, keep: Bool, exclusive: Bool = false, disk: WorkerPool, buffers: AlignedBufferPool, direct: Bool
    ) async throws -> PartFile {
        let (fd, replacedOldMeta) = try await disk.callAsync("open \(path).part") { _ in
            try openLocked(path: path, keep: keep, exclusive: exclusive)
        }
        return PartFile(path: path, fd: fd, keep: keep, replacedOldMeta: replacedOldMeta, disk: disk, buffers: buffers, direct: direct)
    }

    private init(path: String, fd: Int32, keep: Bool, replacedOldMeta: Bool, disk: WorkerPool, buffers: AlignedBufferPool, direct: Bool) {
        self.path = path
        self.fd = fd
        kept = keep
        self.replacedOldMeta = replacedOldMeta
        writer = DirectWriter(bufferedFD: fd, path: path + ".part", disk: disk, buffers: buffers, direct: direct)
    }

    /// The system calls of `open`: the descriptor, and whether an old meta was removed. Blocks.
    private static func openLocked(path: String, keep: Bool, exclusive: Bool) throws -> (Int32, Bool) {
        if exclusive {
            // The name is the server's choice: never one that is taken on disk (PATH, or a meta
            // of another download), nor a .part (O_EXCL below).
            var info = stat()
            if lstat(path, &info) == 0 || lstat(metaPath(for: path), &info) == 0 { throw PartFileError.exists(path + ".part") }
        }
        let fd = try openPart(path + ".part", keep: keep, exclusive: exclusive)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw PartFileError("\(path).part is being written by another netget (it holds the lock)", refusesOverwrite: true)
        }
        // After the truncation: a kill between the two leaves a meta that claims bytes an
        // empty .part does not have, which -c refuses (it never leaves old bytes unclaimed).
        let replacedOldMeta = !keep && unlink(metaPath(for: path)) == 0
        return (fd, replacedOldMeta)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Creates PATH.part (O_EXCL), or opens the regular file already there unless `exclusive`;
    /// never follows a link.
    private static func openPart(_ partPath: String, keep: Bool, exclusive: Bool) throws -> Int32 {
        let flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW
        let created = open(partPath, flags | O_CREAT | O_EXCL, 0o666)
        if created >= 0 { return created }
        guard errno == EEXIST else { throw PartFileError.system("cannot create \(partPath)") }
        if exclusive { throw PartFileError.exists(partPath) }
        var info = stat()
        guard lstat(partPath, &info) == 0 else {
            throw PartFileError.system("cannot open \(partPath)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw PartFileError(
                "\(partPath) exists and is not a regular file (a symbolic link or a directory): refusing to write through it",
                refusesOverwrite: true)
        }
        let opened = open(partPath, flags | (keep ? 0 : O_TRUNC))
        guard opened >= 0 else {
            if errno == ELOOP {
                throw PartFileError("\(partPath) is a symbolic link: refusing to write through it", refusesOverwrite: true)
            }
            throw PartFileError.system("cannot open \(partPath)")
        }
        return opened
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) async throws {
        try await writer.write(bytes, at: offset)
        if !writer.isDirect {
            unsyncedBytes += bytes.count
            if unsyncedBytes >= 32 << 20 {
                // Start writing back now, without waiting: spreads the disk work over the download.
                FileSystemCalls.startWriteback(fd: fd)
                unsyncedBytes = 0
            }
        }
    }

    func lendBuffer(for offset: UInt64, maxBytes: Int) async throws -> UnsafeMutableRawBufferPointer? {
        try await writer.lend(for: offset, maxBytes: maxBytes)
    }

    func commitLent(_ count: Int, at offset: UInt64) async throws {
        try await writer.commitLent(count, at: offset)
    }

    func discardAll() async throws {
        try await writer.discard()
        guard ftruncate(fd, 0) == 0 else {
            throw PartFileError.system("cannot truncate \(partPath)")
        }
    }

    /// Every byte handed to a write so far is on disk (the direct writes begun are waited for,
    /// then fdatasync on a disk worker): the first half of a checkpoint (`ResumeCheckpoints`),
    /// which claims none of `gatheredRanges`. The download goes on meanwhile.
    /// - Throws: `PartFileError`.
    func makeDurable(disk: WorkerPool) async throws {
        try await writer.waitForWritesBegun()
        try await disk.callAsync("fdatasync \(partPath)") { [self] _ in try syncToDisk() }
    }

    /// Writes what the writer gathers (aligned part direct, the rest plain, both on disk
    /// workers), at the end of a download, or for the last checkpoint of one that stopped.
    /// Not synced. - Throws: `PartFileError`.
    /// - Parameter then: runs on a disk worker once every byte is in the file (with a small
    ///   file's write, in the same job).
    func writeGathered(then: (@Sendable () throws -> Void)? = nil) async throws {
        try await writer.finish(then: then)
    }

    /// Bytes taken but still gathered in the writer's buffers (start, end exclusive): not in the
    /// file yet. Writing them out early would mix buffered and O_DIRECT writes of one range,
    /// which costs the direct write a page-cache flush.
    var gatheredRanges: [(start: UInt64, end: UInt64)] { writer.gatheredRanges }

    /// Every byte taken so far is in the file (not synced): before reading stored bytes back.
    /// - Throws: `PartFileError`.
    func writeOut() async throws {
        try await writer.writeOut()
    }

    /// The file holds exactly `length` bytes: a longer one is cut (bytes past the end belong
    /// to no version of the resource); a shorter one is an error.
    /// - Throws: `PartFileError`.
    func setLength(_ length: UInt64) throws {
        let now = size
        if now > length {
            guard ftruncate(fd, off_t(length)) == 0 else {
                throw PartFileError.system("cannot truncate \(partPath)")
            }
        } else if now < length {
            throw PartFileError("\(partPath) has \(now) of \(length) bytes after the download: refusing to call it done")
        }
    }

    /// What is already written, on disk now (blocks).
    func syncToDisk() throws {
        // fdatasync: the data and the size, without timestamps' extra journal write.
        guard fdatasync(fd) == 0 else { throw PartFileError.system("cannot flush \(partPath)") }
    }

    /// Bytes stored at `offset` (a resume compares them with the server's). Blocks: a worker's job.
    func readStored(at offset: UInt64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            // count > 0 here
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw PartFileError(
                    n == 0
                        ? "\(partPath) ends before byte \(offset + UInt64(count))"
                        : "cannot read \(partPath): \(String(cString: strerror(errno)))")
            }
            done += n
        }
        return bytes
    }

    /// Reserves the disk blocks of a large file up front: one allocation instead of one per
    /// write. Never more than the file system's free space less a margin (1/16 of it, at least
    /// 64 MiB): a reservation must not fill the disk for everyone else. Best effort (not every
    /// file system can); the size stays as written so far.
    /// - Parameter fd: a descriptor of the part file (the caller's own `dup`, so that a commit,
    ///   which closes the file's, cannot hand the number to another file meanwhile).
    static func reserve(_ length: UInt64, fd: Int32) {
        var info = statvfs()
        guard fstatvfs(fd, &info) == 0 else { return }
        let free = UInt64(info.f_bavail) &* UInt64(info.f_frsize)
        let margin = max(64 << 20, free / 16)
        guard free > margin, length <= free - margin else { return }
        FileSystemCalls.reserveSpace(fd: fd, length: Int64(clamping: length))
    }

    /// Bytes in PATH.part now.
    var size: UInt64 {
        var info = stat()
        return fstat(fd, &info) == 0 ? UInt64(info.st_size) : 0
    }

    /// How a rename (`renameToFinal`) ended.
    enum RenameOutcome: Sendable {
        /// PATH.part is now this path.
        case renamed(String)
        /// This name was made by someone else meanwhile: the caller picks the next one.
        case taken(String)
        case failed(PartFileError)
    }

    /// PATH.part becomes `target` (after its bytes are durable: `GroupCommit`), and its meta,
    /// if it may have one, goes. Closes the descriptor. Blocks: a disk worker's job.
    /// - Parameter replacing: `target` may be replaced (the user named it with -o); otherwise
    ///   the rename never replaces a file that is there (RENAME_NOREPLACE): `.taken`.
    /// - Parameter removeMeta: a meta may be beside it (false: this run wrote none, found none).
    func renameToFinal(_ target: String, replacing: Bool, removeMeta: Bool) -> RenameOutcome {
        if fd >= 0 { close(fd) }
        fd = -1
        let renamed = replacing ? rename(partPath, target) : FileSystemCalls.renameNoReplace(from: partPath, to: target)
        guard renamed == 0 else {
            if !replacing && errno == EEXIST { return .taken(target) }
            return .failed(.system("cannot rename \(partPath) to \(target)"))
        }
        if removeMeta { unlink(metaPath) }
        // The rename reaches the disk with the directory's fsync, once per batch (`GroupCommit`).
        return .renamed(target)
    }

    /// Removes PATH.part and its meta (a download refused for good, such as one past
    /// --max-filesize): nothing of it is worth continuing.
    func remove() async {
        // The direct writes in flight use the descriptor: over before it is closed.
        try? await writer.discard()
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(partPath)
        unlink(metaPath)
    }

    /// The directory PATH is in.
    var directory: String { Self.directory(of: path) }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Flushes a directory's entries (renames) to disk. Blocks: run it on a worker.
    /// - Returns: false when it could not.
    @discardableResult
    static func syncDirectory(_ directory: String) -> Bool {
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { return false }
        defer { close(dirFD) }
        return fsync(dirFD) == 0
    }

    // MARK: - Resume state

    /// Writes PATH.part.meta whole or not at all: a new file (O_EXCL, O_NOFOLLOW) under a
    /// temporary name, every write checked, fdatasync, renamed over the old one, then the
    /// directory's fsync, so that the meta survives a power cut too. Without `durable` (a meta
    /// that claims no byte, after one that claimed none), written in place: it survives a killed
    /// process (the page cache stays), and a torn one is refused. Blocks: a worker's job when durable.
    /// - Throws: `PartFileError` (the old meta, if any, is then still in place).
    func writeMeta(_ meta: ResumeMeta, durable: Bool) throws {
        if !durable { return try writeMetaInPlace(meta) }
        let temporary = metaPath + ".tmp"
        unlink(temporary)
        let metaFD = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard metaFD >= 0 else { throw PartFileError.system("cannot create \(temporary)") }
        do {
            defer { close(metaFD) }
            let bytes = meta.encoded()
            try bytes.withUnsafeBytes { try DirectWriter.writeAll(fd: metaFD, $0, at: 0) }
            guard fdatasync(metaFD) == 0 else { throw PartFileError.system("cannot flush \(temporary)") }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, metaPath) == 0 else {
            let code = errno
            unlink(temporary)
            throw PartFileError("cannot rename \(temporary): \(String(cString: strerror(code)))", errno: code)
        }
        guard Self.syncDirectory(directory) else { throw PartFileError("cannot flush the directory \(directory)", errno: errno) }
    }

    /// A meta that claims no byte, written straight to its name (one directory change, not two:
    /// every one is journaled with the .part's next fdatasync). Torn by a kill, it fails its
    /// checksum and -c starts over, which is all a meta that claims nothing could have said.
    private func writeMetaInPlace(_ meta: ResumeMeta) throws {
        let metaFD = open(metaPath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard metaFD >= 0 else { throw PartFileError.system("cannot create \(metaPath)") }
        defer { close(metaFD) }
        try meta.encoded().withUnsafeBytes { try DirectWriter.writeAll(fd: metaFD, $0, at: 0) }
    }

    /// What `-c` finds beside PATH.
    enum Found {
        /// No PATH.part: a fresh download.
        case nothing
        /// A meta that checks out against the .part: continue from it.
        case resumable(ResumeMeta)
        /// A .part without a meta, written strictly in order: continue from its size (the
        /// bytes before are compared with the server's, `DownloadOptions.resumeOverlap`).
        case inOrder(size: UInt64)
        /// What is there cannot be trusted: start over, saying why.
        case untrusted(String)
    }

    /// Looks at PATH.part and its meta for `-c`.
    ///
    /// netget writes the meta before the first body byte, except for a small file fetched in one
    /// piece, whose .part is at every moment empty or a prefix of the body (`ResumeCheckpoints`);
    /// a .part without one is such a file, or comes from a tool that writes in order (wget,
    /// curl -C, a browser). That is also checked: such a file has no hole below its size
    /// (SEEK_HOLE), where a file written in segments that stopped early has one between them.
    static func inspect(path: String, url: String) -> Found {
        let partPath = path + ".part"
        let partFD = open(partPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard partFD >= 0 else {
            if errno == ENOENT { return .nothing }
            return .untrusted("cannot open \(partPath): \(String(cString: strerror(errno)))")
        }
        defer { close(partFD) }
        var info = stat()
        guard fstat(partFD, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return .untrusted("\(partPath) is not a regular file") }
        let size = UInt64(info.st_size)
        switch readSmallFile(metaPath(for: path), limit: ResumeMeta.maxBytes) {
        case .missing:
            let hole = FileSystemCalls.firstHole(fd: partFD)
            if hole >= 0 && UInt64(hole) < size {
                return .untrusted("\(partPath) has no meta and a hole at byte \(hole): it was not written in order")
            }
            return .inOrder(size: size)
        case .unreadable(let reason):
            return .untrusted(reason)
        case .bytes(let bytes):
            let meta: ResumeMeta
            do {
                meta = try ResumeMeta.decode(bytes)
            } catch {
                return .untrusted("\(metaPath(for: path)) is refused (\(error))")
            }
            guard meta.url == url else { return .untrusted("\(metaPath(for: path)) is for another URL (\(meta.url))") }
            guard meta.storedExtent <= size else {
                return .untrusted("\(metaPath(for: path)) claims \(meta.storedExtent) bytes but \(partPath) has \(size)")
            }
            return .resumable(meta)
        }
    }

    private enum SmallFile {
        case missing
        case unreadable(String)
        case bytes([UInt8])
    }

    private static func readSmallFile(_ path: String, limit: Int) -> SmallFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            return errno == ENOENT ? .missing : .unreadable("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return .unreadable("cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { return .bytes(bytes) }
            bytes += chunk[0..<n]
        }
        return .unreadable("\(path) is larger than \(limit) bytes")
    }
}

extension ResumeMeta {
    /// The meta of `state` for `url`.
    init(_ state: ResumeState, url: HTTPURL) {
        self.init(
            url: url.description, etag: state.etag, lastModified: state.lastModified, length: state.totalLength,
            missing: state.remaining.map { Missing(first: $0.next, last: $0.end) }.sorted { $0.first < $1.first })
    }

    /// The state a `Downloader` continues from.
    var resumeState: ResumeState {
        ResumeState(
            etag: etag, lastModified: lastModified, totalLength: length,
            remaining: missing.map { ByteSpan(next: $0.first, end: $0.last) })
    }
}

struct PartFileError: Error, CustomStringConvertible {
    let description: String
    /// PATH.part exists (and the name was the server's to choose): pick another name.
    static func exists(_ partPath: String) -> PartFileError { PartFileError("\(partPath) exists", errno: EEXIST) }

    /// A system call failed just now: `what`, then errno's text; errno is kept.
    static func system(_ what: String) -> PartFileError {
        let code = Glibc.errno
        return PartFileError("\(what): \(String(cString: strerror(code)))", errno: code)
    }

    /// The errno behind it, when a system call failed (ENOSPC: the disk is full).
    let errno: Int32?
    /// netget will not write over what is there (a link, not a regular file, another
    /// netget's lock): exit 73, not a disk failure.
    let refusesOverwrite: Bool
    init(_ description: String, errno: Int32? = nil, refusesOverwrite: Bool = false) {
        self.description = description
        self.errno = errno
        self.refusesOverwrite = refusesOverwrite
    }
}
