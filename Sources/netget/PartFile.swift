import CLibevShim
import HTTPClient

#if canImport(Glibc)
import Glibc
#endif

/// PATH.part: where a download's bytes go until it is complete and verified; then it is
/// flushed to disk and renamed to PATH. Beside it, PATH.part.meta holds what `-c` needs to
/// continue (validators, length, the ranges still missing).
///
/// Writes happen on the loop thread (`pwrite` to the page cache); every 32 MiB the kernel is
/// asked to start writing back (`sync_file_range`), so the final `fsync` finds little left.
final class PartFile: DownloadSink, @unchecked Sendable {  // used by one thread at a time: the loop, or a worker while the loop waits for it
    let path: String
    var partPath: String { path + ".part" }
    var metaPath: String { path + ".part.meta" }
    private(set) var fd: Int32 = -1
    private var unsyncedBytes = 0
    private var writebackStart: UInt64 = .max
    private var writebackEnd: UInt64 = 0

    /// Opens PATH.part, emptied unless `keep`. - Throws: `PartFileError` with the reason.
    init(path: String, keep: Bool) throws {
        self.path = path
        fd = open(path + ".part", O_RDWR | O_CREAT | O_CLOEXEC | (keep ? 0 : O_TRUNC), 0o644)
        guard fd >= 0 else { throw PartFileError("cannot open \(path).part: \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))  // count > 0 here
            if n < 0 {
                if errno == EINTR { continue }
                throw PartFileError("cannot write \(partPath): \(String(cString: strerror(errno)))")
            }
            done += n
        }
        writebackStart = min(writebackStart, offset)
        writebackEnd = max(writebackEnd, offset + UInt64(bytes.count))
        unsyncedBytes += bytes.count
        if unsyncedBytes >= 32 << 20 {
            // Start writing back now, without waiting: spreads the disk work over the download.
            _ = cev_start_writeback(fd, Int64(writebackStart), Int64(writebackEnd - writebackStart))
            unsyncedBytes = 0
            writebackStart = .max
            writebackEnd = 0
        }
    }

    func discardAll() throws {
        guard ftruncate(fd, 0) == 0 else { throw PartFileError("cannot truncate \(partPath): \(String(cString: strerror(errno)))") }
    }

    /// Bytes in PATH.part now.
    var size: UInt64 {
        var info = stat()
        return fstat(fd, &info) == 0 ? UInt64(info.st_size) : 0
    }

    /// Flushes the data to disk (blocks: run it on a worker). - Throws: `PartFileError`.
    func flush() throws {
        guard fsync(fd) == 0 else { throw PartFileError("cannot flush \(partPath): \(String(cString: strerror(errno)))") }
    }

    /// PATH.part becomes PATH (after `flush`), and the meta file goes. - Throws: `PartFileError`.
    func commit() throws {
        close(fd)
        fd = -1
        guard rename(partPath, path) == 0 else { throw PartFileError("cannot rename \(partPath) to \(path): \(String(cString: strerror(errno)))") }
        unlink(metaPath)
        // The rename itself must reach the disk too.
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."  // contains "/" checked
        let dirFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY)
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
