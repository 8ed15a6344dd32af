import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a download to disk with O_DIRECT, off the loop: bytes are gathered per stream into
/// aligned 1 MiB buffers, and each full buffer is written by a worker thread (`callAsync`)
/// while the loop goes on receiving. O_DIRECT skips the page cache: no copy into it, and
/// nothing left for the final fsync to write. What cannot be aligned (a resumed start, the
/// last partial block) goes through the ordinary descriptor.
///
/// Falls back to plain `pwrite` on the loop thread when the file system refuses O_DIRECT
/// (tmpfs). Loop-thread only, except the jobs it gives the disk workers.
final class DirectWriter: @unchecked Sendable {  // loop-thread confined; workers only see their own buffer and the fds
    static let block = 4096
    static let bufferSize = 1 << 20
    /// Buffers written at once per file: bounds memory (and keeps the disk busy).
    static let inFlight = 8

    private let bufferedFD: Int32
    private let path: String
    /// Opened on the first full buffer (-2: not yet; -1: the file system refuses O_DIRECT), so
    /// a small file never pays for a second descriptor.
    private var directFD: Int32 = -2
    private let disk: WorkerPool
    private var streams: [Stream] = []
    private let buffers: AlignedBufferPool
    private let slots = NetCore.Semaphore(DirectWriter.inFlight)
    private var writesInFlight = 0
    private var failure: PartFileError?
    private let idle = NetCore.Event()
    /// The direct writes in flight, by number: `writeOut` waits for those begun before it.
    private var pending: [Int: NetCore.Event] = [:]
    private var nextWriteNumber = 0

    /// A run of bytes being gathered: `filled` bytes of `buffer` belong at `start`.
    private final class Stream {
        var start: UInt64
        var filled = 0
        var buffer: UnsafeMutableRawBufferPointer
        /// Lent to a reader that is parked on the socket: not to be given to another stream.
        var lent = false
        init(start: UInt64, buffer: UnsafeMutableRawBufferPointer) {
            self.start = start
            self.buffer = buffer
        }
        var next: UInt64 { start + UInt64(filled) }
    }

    /// - Parameters:
    ///   - path: the file, already created by `PartFile` (opened a second time with O_DIRECT when needed).
    ///   - buffers: aligned buffers shared by the run's files (reused, not reallocated per file).
    ///   - direct: false writes through the page cache (plain `pwrite`s), for a file that is read
    ///     back at once (to hash it): O_DIRECT would make that read come from the disk.
    init(bufferedFD: Int32, path: String, disk: WorkerPool, buffers: AlignedBufferPool, direct: Bool = true) {
        self.bufferedFD = bufferedFD
        if !direct { directFD = -1 }
        self.path = path
        self.disk = disk
        self.buffers = buffers
        idle.set()
    }

    deinit {
        if directFD >= 0 { close(directFD) }
        for stream in streams { buffers.giveBack(stream.buffer) }
    }

    var isDirect: Bool { directFD != -1 }

    /// Takes bytes for `offset`. Parks while `inFlight` buffers are being written.
    /// - Throws: `PartFileError` for an earlier failed write or a failing plain write.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) async throws {
        if let failure { throw failure }
        guard isDirect else { return try plainWrite(bytes, at: offset) }
        var bytes = bytes
        var offset = offset
        while !bytes.isEmpty {
            let stream = try await stream(continuing: offset)
            if stream.filled == 0 && stream.start % UInt64(Self.block) != 0 {
                // Not aligned (a resume point, an odd segment start): plain writes up to the next block.
                let toBoundary = Int(UInt64(Self.block) - stream.start % UInt64(Self.block))
                let count = min(toBoundary, bytes.count)
                try plainWrite(UnsafeRawBufferPointer(rebasing: bytes[0..<count]), at: offset)
                stream.start += UInt64(count)
                bytes = UnsafeRawBufferPointer(rebasing: bytes[count...])
                offset += UInt64(count)
                continue
            }
            let count = min(stream.buffer.count - stream.filled, bytes.count)
            (stream.buffer.baseAddress! + stream.filled).copyMemory(from: bytes.baseAddress!, byteCount: count)  // both non-empty
            stream.filled += count
            bytes = UnsafeRawBufferPointer(rebasing: bytes[count...])
            offset += UInt64(count)
            if stream.filled == stream.buffer.count { try await submit(stream) }
        }
    }

    /// Lends the free part of the stream buffer that continues at `offset`, so the socket is
    /// read straight into it; nil where bytes must go through `write` (no O_DIRECT, or an
    /// unaligned start).
    func lend(for offset: UInt64, maxBytes: Int) async throws -> UnsafeMutableRawBufferPointer? {
        if let failure { throw failure }
        guard isDirect else { return nil }
        let stream = try await stream(continuing: offset)
        if stream.filled == 0 && stream.start % UInt64(Self.block) != 0 { return nil }
        let end = min(stream.buffer.count, stream.filled + maxBytes)
        stream.lent = true
        return UnsafeMutableRawBufferPointer(rebasing: stream.buffer[stream.filled..<end])
    }

    /// The lent buffer's first `count` bytes are filled.
    func commitLent(_ count: Int, at offset: UInt64) async throws {
        guard let stream = streams.first(where: { $0.lent && $0.next == offset }) else {
            throw PartFileError("internal: no stream continues at \(offset)")
        }
        stream.lent = false
        stream.filled += count
        if stream.filled == stream.buffer.count { try await submit(stream) }
    }

    /// Writes what is gathered (aligned part direct, the rest plain) and waits for every write.
    /// The plain writes (all of a small file: nothing filled a buffer) go to a disk worker in
    /// one job, so the loop only receives.
    /// - Parameter then: runs on a disk worker once every byte is in the file: in the plain
    ///   writes' own job for a small file (one hand-off for its write and, say, its fdatasync),
    ///   else in a job of its own after the direct writes.
    /// - Throws: `PartFileError` from any write, or what `then` throws.
    func finish(then: (@Sendable () throws -> Void)? = nil) async throws {
        if let failure { throw failure }
        // Only a file that never opened its direct descriptor is written all plain, in one job.
        let thenInPlainJob = directFD == -2
        // (stream, bytes from, bytes to): written plain, then the stream moves past them.
        var plain: [(stream: Stream, from: Int, to: Int)] = []
        for stream in streams where stream.filled > 0 {
            if directFD == -2 {
                // Nothing filled a whole buffer (a small file): plain writes, no second descriptor.
                plain.append((stream, 0, stream.filled))
            } else {
                let aligned = stream.filled / Self.block * Self.block
                if aligned < stream.filled { plain.append((stream, aligned, stream.filled)) }
            }
        }
        if !plain.isEmpty {
            nonisolated(unsafe) let pieces = plain.map {
                (UnsafeRawBufferPointer(rebasing: $0.stream.buffer[$0.from..<$0.to]), $0.stream.start + UInt64($0.from))
            }
            let (fd, disk, path) = (bufferedFD, disk, path)
            // In a tasklet of its own, which a cancelled caller does not cancel: the worker reads
            // the streams' buffers, which must not go back to the pool before it is done.
            let job = Loop.current?.spawn(name: "plain writes \(path)") {
                try await disk.callAsync("pwrite \(path)") { _ in
                    for (bytes, offset) in pieces { try Self.writeAll(fd: fd, bytes, at: offset) }
                    if thenInPlainJob { try then?() }
                }
            }
            guard let job else { throw PartFileError("internal: DirectWriter.finish off the loop thread") }
            do {
                try await job.value
            } catch let error as PartFileError {
                throw error
            } catch {
                throw PartFileError("\(error)")
            }
            for (stream, from, to) in plain {
                if from == 0 {
                    stream.start += UInt64(to)
                    stream.filled = 0
                } else {
                    stream.filled = from
                }
            }
        }
        for stream in streams where stream.filled > 0 { try await submit(stream) }
        try await drain()
        if let then, plain.isEmpty || !thenInPlainJob {
            try await runAfterWrites(then)
        }
        // Every byte is in the file: the buffers go back to the pool now, not when the file
        // is renamed (a finished file may wait for its batch while the next download runs).
        for stream in streams where !stream.lent { buffers.giveBack(stream.buffer) }
        streams.removeAll { !$0.lent }
    }

    /// Runs `body` on a disk worker, its errors as `PartFileError`.
    private func runAfterWrites(_ body: @escaping @Sendable () throws -> Void) async throws {
        let (disk, path) = (disk, path)
        // A tasklet of its own, as the plain writes: a cancelled caller does not leave it half done.
        let job = Loop.current?.spawn(name: "after writes \(path)") {
            try await disk.callAsync("after writes \(path)") { _ in try body() }
        }
        guard let job else { throw PartFileError("internal: DirectWriter.finish off the loop thread") }
        do {
            try await job.value
        } catch let error as PartFileError {
            throw error
        } catch {
            throw PartFileError("\(error)")
        }
    }

    /// Puts every byte taken so far into the file (not yet synced: `PartFile.makeDurable` does
    /// that), without ending the streams: each gathered partial buffer is written through the
    /// ordinary descriptor (and written again, direct, when it fills: the same bytes at the
    /// same offset), and the direct writes begun before this call are waited for. Writes
    /// taken meanwhile by other tasklets may or may not be included.
    /// - Throws: `PartFileError` from any write.
    func writeOut() async throws {
        if let failure { throw failure }
        for stream in streams where stream.filled > 0 {
            try plainWrite(UnsafeRawBufferPointer(rebasing: stream.buffer[0..<stream.filled]), at: stream.start)
        }
        try await waitForWritesBegun()
    }

    /// Waits for the direct writes begun before this call (not for later ones).
    /// - Throws: `PartFileError` from any write.
    func waitForWritesBegun() async throws {
        let horizon = nextWriteNumber
        for (number, done) in pending where number < horizon { _ = try await done.wait(timeout: nil) }
        if let failure { throw failure }
    }

    /// The byte ranges (start, end exclusive) taken but still gathered in buffers, not yet
    /// handed to a write: a checkpoint must not claim them.
    var gatheredRanges: [(start: UInt64, end: UInt64)] {
        streams.filter { $0.filled > 0 }.map { ($0.start, $0.next) }
    }

    /// Waits for the writes in flight; the gathered bytes are dropped (the file is being restarted).
    func discard() async throws {
        try await drain()
        for stream in streams { buffers.giveBack(stream.buffer) }
        streams.removeAll()
    }

    private func drain() async throws {
        while writesInFlight > 0 { _ = try await idle.wait(timeout: nil) }
        if let failure { throw failure }
    }

    /// The stream whose next byte is `offset`, or a new one there.
    private func stream(continuing offset: UInt64) async throws -> Stream {
        if let stream = streams.first(where: { $0.next == offset && $0.filled < $0.buffer.count }) { return stream }
        if let stream = streams.first(where: { $0.filled == 0 && !$0.lent }) {
            stream.start = offset
            return stream
        }
        // A new stream, or one that stopped: write what another stream gathered if it is done.
        let stream = Stream(start: offset, buffer: takeBuffer())
        streams.append(stream)
        return stream
    }

    private func takeBuffer() -> UnsafeMutableRawBufferPointer { buffers.take() }

    /// Hands the stream's full (or final, aligned) buffer to a disk worker and gives the
    /// stream a fresh buffer that continues where it ended.
    private func submit(_ stream: Stream) async throws {
        if directFD == -2 { directFD = open(path, O_WRONLY | O_CLOEXEC | FileSystemCalls.directIOFlag) }
        guard directFD >= 0 else {
            // The file system refuses O_DIRECT (tmpfs): plain writes, on this thread.
            try plainWrite(UnsafeRawBufferPointer(rebasing: stream.buffer[0..<stream.filled]), at: stream.start)
            stream.start += UInt64(stream.filled)
            stream.filled = 0
            return
        }
        try await slots.acquire()
        let buffer = UnsafeRawBufferPointer(rebasing: stream.buffer[0..<stream.filled])
        let start = stream.start
        nonisolated(unsafe) let owned = stream.buffer  // back to the pool (loop thread) when the write is done
        stream.start += UInt64(stream.filled)
        stream.filled = 0
        stream.buffer = takeBuffer()
        writesInFlight += 1
        idle.clear()
        let number = nextWriteNumber
        nextWriteNumber += 1
        let done = NetCore.Event()
        pending[number] = done
        let fd = directFD
        nonisolated(unsafe) let bytes = buffer  // owned by this write until it returns
        Loop.current?.spawn(name: "disk write") { [self] in
            defer {
                buffers.giveBack(owned)
                writesInFlight -= 1
                if writesInFlight == 0 { idle.set() }
                pending[number] = nil
                done.set()
                slots.release()
            }
            do {
                try await disk.callAsync("pwrite O_DIRECT") { _ in try Self.writeAll(fd: fd, bytes, at: start) }
            } catch let error as PartFileError {
                if failure == nil { failure = error }
            } catch {
                if failure == nil { failure = PartFileError("\(error)") }
            }
        }
    }

    private func plainWrite(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        try Self.writeAll(fd: bufferedFD, bytes, at: offset)
    }

    static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))  // count > 0 here
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                throw PartFileError("cannot write the file: \(String(cString: strerror(code)))", errno: code)
            }
            done += n
        }
    }
}

/// Aligned 1 MiB buffers shared by every file of a run: a buffer is mapped and faulted in once,
/// then reused, instead of once per file. Keeps at most `limit` spare ones. Loop-thread only.
final class AlignedBufferPool: @unchecked Sendable {  // the run's loop thread only
    private var spare: [UnsafeMutableRawBufferPointer] = []
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    deinit { for buffer in spare { buffer.deallocate() } }

    func take() -> UnsafeMutableRawBufferPointer {
        spare.popLast() ?? UnsafeMutableRawBufferPointer.allocate(byteCount: DirectWriter.bufferSize, alignment: DirectWriter.block)
    }

    func giveBack(_ buffer: UnsafeMutableRawBufferPointer) {
        if spare.count < limit { spare.append(buffer) } else { buffer.deallocate() }
    }
}
