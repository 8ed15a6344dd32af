import HTTPClient
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// Standard output for `-o -`, shared by the run's downloads (their bodies one after another).
/// The blocking write(2)s run on a disk worker, so a slow reader parks the download (that is
/// its backpressure) while the loop goes on; the first failure stays, and every later write
/// throws it. Loop-thread only.
final class StandardOutput: @unchecked Sendable {  // used by the tasklets of one loop only
    private let disk: WorkerPool
    /// Why standard output cannot be written any more (EPIPE: its reader closed it).
    private(set) var failure: StandardOutputError?
    /// Bytes written so far, every download's.
    private(set) var bytesWritten: UInt64 = 0

    init(disk: WorkerPool) { self.disk = disk }

    /// Writes all of `bytes` to file descriptor 1 on a disk worker.
    /// - Throws: `StandardOutputError` (kept in `failure`); `CancellationError`, after which
    ///   standard output is given up too: the worker may still be writing those bytes, and
    ///   nothing may be written after them in the wrong order.
    func write(_ bytes: [UInt8]) async throws {
        if let failure { throw failure }
        let written = bytesWritten
        do {
            try await disk.callAsync("write stdout") { _ in try Self.writeAll(bytes, after: written) }
            bytesWritten += UInt64(bytes.count)
        } catch let error as StandardOutputError {
            failure = error
            throw error
        } catch {
            failure = failure ?? StandardOutputError(errno: ECANCELED, bytesWritten: written)
            throw error
        }
    }

    /// Blocks until every byte is written. A descriptor someone made non-blocking (it is shared
    /// with the shell) is waited for with poll(2) instead of failing with EAGAIN.
    private static func writeAll(_ bytes: [UInt8], after written: UInt64) throws(StandardOutputError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + done, $0.count - done) }  // not empty while done < count
            if n >= 0 {
                done += n
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN:
                var ready = pollfd(fd: 1, events: Int16(POLLOUT), revents: 0)
                _ = poll(&ready, 1, -1)
            default: throw StandardOutputError(errno: errno, bytesWritten: written + UInt64(done))
            }
        }
    }
}

/// Standard output could not be written: exit 23 (curl's code for a write error).
struct StandardOutputError: Error, CustomStringConvertible {
    let errno: Int32
    /// Bytes that reached standard output before it failed.
    let bytesWritten: UInt64

    var description: String {
        switch errno {
        case EPIPE: return "standard output was closed by its reader after \(bytesWritten) bytes (broken pipe); the download stopped"
        case ECANCELED: return "standard output was given up after \(bytesWritten) bytes"
        default: return "cannot write to standard output after \(bytesWritten) bytes: \(String(cString: strerror(errno)))"
        }
    }
}

/// One download's body on standard output, in order. Segments (-x) write at their own offsets;
/// bytes that come before their turn wait in a reorder buffer of at most `bufferLimit` bytes,
/// and a segment whose bytes do not fit parks until the bytes before them are written. The
/// segment at the write position never waits, so the body always moves on.
///
/// It keeps the last `tailLength` bytes written, so that a resume without validators can
/// compare the bytes before its resume point with the server's (`DownloadReadBack`), as a
/// download to a file does. It cannot start over once a byte is out: `discardAll` then fails
/// the download. The digest (`--checksum`, `checksum=`) is fed in write order. Loop-thread only.
final class StandardOutputSink: DownloadSink, DownloadReadBack {
    private let output: StandardOutput
    let bufferLimit: Int
    private let tailLength: Int
    /// The running digest of the bytes written, when the download has a checksum.
    let digest: RunningDigest?

    /// This body's bytes written to standard output (the write position).
    private(set) var emitted: UInt64 = 0
    /// Bytes after the write position, by offset, waiting for their turn.
    private var pending: [UInt64: [UInt8]] = [:]
    private(set) var pendingBytes = 0
    /// The most bytes the reorder buffer held at once.
    private(set) var peakPendingBytes = 0
    /// The last bytes written (at most `tailLength`), ending at `emitted`.
    private var tail: [UInt8] = []
    private var emitting = false
    /// Set (and replaced) each time the write position moves or the buffer shrinks.
    private var moved = Event()
    /// Bumped by `discardAll`: a write parked before it is not this body's now.
    private var generation = 0

    /// - Parameter tailLength: bytes kept for a resume's comparison (`DownloadOptions.resumeOverlap`).
    init(output: StandardOutput, bufferLimit: Int, tailLength: Int, digest: RunningDigest?) {
        self.output = output
        self.bufferLimit = bufferLimit
        self.tailLength = tailLength
        self.digest = digest
    }

    /// Writes `bytes` now if they are next, else keeps a copy until they are, parking while the
    /// reorder buffer has no room for them.
    /// - Throws: `StandardOutputError`; `CancellationError`; `PartFileError` for bytes before
    ///   the write position (never asked by `Downloader`).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) async throws {
        let generation = self.generation
        while true {
            if let failure = output.failure { throw failure }
            guard generation == self.generation else { throw CancellationError() }
            if offset < emitted {
                throw PartFileError("bytes at \(offset) came after standard output was written up to \(emitted)")
            }
            if offset == emitted && !emitting {
                try await emit(Array(bytes))
                // What waited for these bytes follows them.
                while let next = pending.removeValue(forKey: emitted) {
                    pendingBytes -= next.count
                    try await emit(next)
                }
                return
            }
            if offset > emitted && pendingBytes + bytes.count <= bufferLimit {
                pending[offset] = Array(bytes)
                pendingBytes += bytes.count
                peakPendingBytes = max(peakPendingBytes, pendingBytes)
                return
            }
            try await moved.wait()
        }
    }

    private func emit(_ chunk: [UInt8]) async throws {
        emitting = true
        defer {
            emitting = false
            wakeWaiters()
        }
        chunk.withUnsafeBytes { digest?.update($0) }
        try await output.write(chunk)
        emitted += UInt64(chunk.count)
        if chunk.count >= tailLength {
            tail = Array(chunk.suffix(tailLength))
        } else {
            tail += chunk
            if tail.count > tailLength { tail.removeFirst(tail.count - tailLength) }
        }
    }

    private func wakeWaiters() {
        let event = moved
        moved = Event()
        event.set()
    }

    /// Empties the reorder buffer when nothing is written yet (a restart from zero).
    /// - Throws: `PartFileError` once bytes are out: standard output cannot be taken back.
    func discardAll() async throws {
        guard emitted == 0 else {
            throw PartFileError(
                "the download would have to start over, but \(emitted) bytes of it are already on standard output")
        }
        pending.removeAll()
        pendingBytes = 0
        generation += 1
        wakeWaiters()
    }

    /// The bytes at `offset`, from the kept tail or the reorder buffer.
    /// - Throws: `PartFileError` for a byte held in neither.
    func storedBytes(at offset: UInt64, count: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var position = offset
        let end = offset + UInt64(count)
        let tailStart = emitted - UInt64(tail.count)
        while position < end {
            if position >= tailStart && position < emitted {
                let from = Int(position - tailStart)
                let take = min(Int(end - position), tail.count - from)
                bytes += tail[from..<(from + take)]
                position += UInt64(take)
            } else if let (start, chunk) = pending.first(where: { $0.key <= position && position < $0.key + UInt64($0.value.count) }) {
                let from = Int(position - start)
                let take = min(Int(end - position), chunk.count - from)
                bytes += chunk[from..<(from + take)]
                position += UInt64(take)
            } else {
                throw PartFileError("byte \(position) of the body is no longer held (it went to standard output)")
            }
        }
        return bytes
    }
}
