import CLibevShim
import HTTPClient
import Workers

#if canImport(Glibc)
import Glibc
#endif

/// PATH.part: where a download's bytes go until it is complete and verified; then it is
/// flushed to disk and renamed to PATH. Beside it, PATH.part.meta holds what `-c` needs to
/// continue (validators, length, the ranges still missing).
///
/// Bytes go to disk through a `DirectWriter` (O_DIRECT, written by the disk workers while the
/// loop keeps receiving); where the file system refuses O_DIRECT, through plain `pwrite`s with
/// the kernel asked every 32 MiB to start writing back, so the final `fsync` finds little left.
final class PartFile: @unchecked Sendable {  // used by one thread at a time: the loop, or a worker while the loop waits for it
    let path: String
    var partPath: String { path + ".part" }
    var metaPath: String { path + ".part.meta" }
    private(set) var fd: Int32 = -1
    private let writer: DirectWriter
    private var unsyncedBytes = 0

    /// Opens PATH.part, emptied unless `keep`. - Throws: `PartFileError` with the reason.
    /// - Parameter direct: write with O_DIRECT (false when the file will be hashed right after).
    init(path: String, keep: Bool, disk: WorkerPool, buffers: AlignedBufferPool, direct: Bool) throws {
        self.path = path
        fd = open(path + ".part", O_RDWR | O_CREAT | O_CLOEXEC | (keep ? 0 : O_TRUNC), 0o644)
        guard fd >= 0 else { throw PartFileError("cannot open \(path).part: \(String(cString: strerror(errno)))") }
        writer = DirectWriter(bufferedFD: fd, path: path + ".part", disk: disk, buffers: buffers, direct: direct)
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) async throws {
        try await writer.write(bytes, at: offset)
        if !writer.isDirect {
            unsyncedBytes += bytes.count
            if unsyncedBytes >= 32 << 20 {
                // Start writing back now, without waiting: spreads the disk work over the download.
                _ = cev_start_writeback(fd, 0, 0)
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
        guard ftruncate(fd, 0) == 0 else { throw PartFileError("cannot truncate \(partPath): \(String(cString: strerror(errno)))") }
    }

    /// Writes out what the writer still holds (on the loop), then fsyncs on a disk worker.
    /// - Throws: `PartFileError`.
    func flush(disk: WorkerPool) async throws {
        try await writer.finish()
        try await disk.callAsync("fsync \(partPath)") { [self] _ in try syncToDisk() }
    }

    /// What is already written, on disk now (blocks).
    func syncToDisk() throws {
        // fdatasync: the data and the size, without timestamps' extra journal write.
        guard fdatasync(fd) == 0 else { throw PartFileError("cannot flush \(partPath): \(String(cString: strerror(errno)))") }
    }

    /// Reserves the disk blocks of a large file up front: one allocation instead of one per
    /// write, and a full disk shows now rather than half-way. Best effort (not every file
    /// system can); the size stays as written so far.
    func reserve(_ length: UInt64) {
        _ = cev_reserve_space(fd, Int64(length))
    }

    /// Bytes in PATH.part now.
    var size: UInt64 {
        var info = stat()
        return fstat(fd, &info) == 0 ? UInt64(info.st_size) : 0
    }

    /// PATH.part becomes PATH (after `flush`), and the meta file goes. - Throws: `PartFileError`.
    func commit() throws {
        close(fd)
        fd = -1
        guard rename(partPath, path) == 0 else { throw PartFileError("cannot rename \(partPath) to \(path): \(String(cString: strerror(errno)))") }
        unlink(metaPath)
        // The rename reaches the disk with the directory's fsync, once per directory at the end
        // of the run (`Runner`), not once per file.
    }

    /// The directory PATH is in.
    var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Flushes a directory's entries (renames) to disk. Blocks: run it on a worker.
    static func syncDirectory(_ directory: String) {
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    // MARK: - Resume state

    /// Writes PATH.part.meta (through a temporary file and a rename, so it is whole or absent).
    func saveMeta(_ state: ResumeState, url: HTTPURL) {
        var lines = ["url=\(url)"]
        if let etag = state.etag { lines.append("etag=\(etag)") }
        if let lastModified = state.lastModified { lines.append("last-modified=\(lastModified)") }
        if let total = state.totalLength { lines.append("length=\(total)") }
        for span in state.remaining { lines.append("missing=\(span.next)-\(span.end.map(String.init) ?? "")") }
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        let temporary = metaPath + ".tmp"
        let metaFD = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard metaFD >= 0 else { return }
        _ = text.withUnsafeBytes { Glibc.write(metaFD, $0.baseAddress, $0.count) }
        fsync(metaFD)
        close(metaFD)
        rename(temporary, metaPath)
    }

    /// The resume state saved beside PATH.part, or one made from its size when there is none.
    static func loadResumeState(path: String) -> ResumeState? {
        var info = stat()
        guard stat(path + ".part", &info) == 0 else { return nil }
        let size = UInt64(info.st_size)
        guard let text = readSmallFile(path + ".part.meta") else {
            return ResumeState(remaining: [ByteSpan(next: size, end: nil)])
        }
        var state = ResumeState(remaining: [])
        for line in text.split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "etag": state.etag = pair[1]
            case "last-modified": state.lastModified = pair[1]
            case "length": state.totalLength = UInt64(pair[1])
            case "missing":
                let bounds = pair[1].split(separator: "-", omittingEmptySubsequences: false)
                if bounds.count == 2, let next = UInt64(bounds[0]) {
                    state.remaining.append(ByteSpan(next: next, end: UInt64(bounds[1])))
                }
            default: continue
            }
        }
        // A meta file that lists nothing missing but no length cannot be trusted: resume by size.
        if state.remaining.isEmpty && state.totalLength == nil { state.remaining = [ByteSpan(next: size, end: nil)] }
        return state
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }
}

struct PartFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
