import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// A request body sent as it is produced (issue 16 point 5), on either engine: chunks from an
/// `AsyncSequence`, or a file read in bounded pieces. With a known `length` it goes with
/// `Content-Length` (a source that gives more or fewer bytes fails the request); without one,
/// with `Transfer-Encoding: chunked`. Set it as `HTTPRequest.streamingBody`.
///
/// A streamed body is sent once: a failure on a reused connection is never retried on a new
/// one (the stale-connection rule does not apply), and a 307 or 308 redirect, which asks for
/// the same body again, is followed only for a file (read again from its start); for a
/// sequence the 3xx response is returned as it is. A server that answers before the body is
/// all sent and closes (a 413 for an upload over its limit) has that answer returned: when a
/// body write fails with a reset or broken pipe, the response head is read (the rest of the
/// body is not sent), and the write's error is thrown only if no head comes.
public struct HTTPRequestBody: Sendable {
    /// The byte count sent as `Content-Length`; nil sends the body chunked.
    public let length: Int?
    let source: Source

    enum Source: Sendable {
        case sequence(@Sendable () -> any RequestBodyReader)
        case file(path: String)
    }

    /// Chunks from `chunks`, iterated once, on the task that sends the request (the workers
    /// engine hands them to its worker through a channel of two chunks: the sequence is never
    /// read further ahead than that). Empty chunks are skipped.
    /// - Parameters:
    ///   - chunks: the body's bytes, in order.
    ///   - length: the total, if known (sent as `Content-Length`).
    public static func stream<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks, length: Int? = nil) -> HTTPRequestBody
    where Chunks.Element == [UInt8] {
        HTTPRequestBody(length: length, source: .sequence({ SequenceBodyReader(chunks) }))
    }

    /// The file at `path`, its length taken now (`Content-Length`); read in pieces of
    /// `FileBodyReader.pieceSize` (64 KiB) with `read`, on the thread that sends the request (the
    /// loop's, or the worker's with the workers engine): memory stays at one piece however
    /// large the file. A file whose size changes before it is sent fails the request.
    /// - Throws: `HTTPClientError.invalidRequest` when the file cannot be opened or is not a
    ///   regular file.
    public static func file(_ path: String) throws -> HTTPRequestBody {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw HTTPClientError.invalidRequest("cannot read the body file \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw HTTPClientError.invalidRequest("the body file \(path) is not a regular file")
        }
        return HTTPRequestBody(length: Int(info.st_size), source: .file(path: path))
    }

    /// Whether the body can be sent a second time (a 307/308 redirect): a file can.
    var isReplayable: Bool {
        if case .file = source { return true }
        return false
    }

    /// A reader for one sending, made when the exchange starts.
    func makeReader() -> any RequestBodyReader {
        switch source {
        case .sequence(let make): return make()
        case .file(let path): return FileBodyReader(path: path)
        }
    }
}

/// Gives a streamed body's chunks, one at a time, on the task (or worker) that sends it.
/// Sendable so it can go to that task; each conformer is used by one at a time.
protocol RequestBodyReader: AnyObject, Sendable {
    /// The next chunk (never empty), nil at the end. - Throws: what the source throws.
    func next() async throws -> [UInt8]?
    /// The same, for a worker thread: blocks it. Only readers that need no task have it.
    func nextBlocking() throws -> [UInt8]?
    /// Whether `nextBlocking` works (a file), so no task need feed a worker.
    var readsWithoutATask: Bool { get }
}

/// An `AsyncSequence`'s chunks. Used by one task at a time (the one sending the request).
final class SequenceBodyReader<Chunks: AsyncSequence>: RequestBodyReader, @unchecked Sendable
where Chunks.Element == [UInt8] {  // one task at a time: the exchange's
    private var iterator: Chunks.AsyncIterator

    init(_ chunks: Chunks) { iterator = chunks.makeAsyncIterator() }

    func next() async throws -> [UInt8]? {
        while let chunk = try await iterator.next() {
            if !chunk.isEmpty { return chunk }
        }
        return nil
    }

    func nextBlocking() throws -> [UInt8]? {
        throw HTTPClientError.invalidRequest("internal: a sequence body read without a task")
    }

    var readsWithoutATask: Bool { false }
}

/// A file's bytes in pieces of `pieceSize`, opened at the first read, closed at the end.
final class FileBodyReader: RequestBodyReader, @unchecked Sendable {  // one thread at a time: the exchange's
    static let pieceSize = 64 << 10
    private let path: String
    private var fd: Int32 = -1
    private var ended = false

    init(path: String) { self.path = path }

    deinit { if fd >= 0 { close(fd) } }

    func next() async throws -> [UInt8]? { try nextBlocking() }

    func nextBlocking() throws -> [UInt8]? {
        guard !ended else { return nil }
        if fd < 0 {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw HTTPClientError.invalidRequest("cannot open the body file \(path): \(String(cString: strerror(errno)))")
            }
        }
        var piece = [UInt8](repeating: 0, count: Self.pieceSize)
        while true {
            let n = piece.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { return Array(piece[0..<n]) }
            if n == 0 {
                ended = true
                close(fd)
                fd = -1
                return nil
            }
            guard errno == EINTR else {
                throw HTTPClientError.invalidRequest("cannot read the body file \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    var readsWithoutATask: Bool { true }
}

/// A sequence body for a worker thread: a tasklet of the caller's loop reads the sequence and
/// hands each chunk over a channel of two, which the worker receives blocking.
final class ChannelBodyReader: RequestBodyReader, @unchecked Sendable {  // the worker's thread only; the channel is thread-safe
    enum Message: Sendable {
        case chunk([UInt8])
        case end
        case failure(String)
    }

    let channel = Channel<Message>(capacity: 2)

    func next() async throws -> [UInt8]? { try nextBlocking() }

    func nextBlocking() throws -> [UInt8]? {
        switch try channel.receiveBlocking() {
        case .chunk(let bytes): return bytes
        case .end: return nil
        case .failure(let reason): throw HTTPClientError.invalidRequest("the request body's source failed: \(reason)")
        }
    }

    var readsWithoutATask: Bool { true }

    /// Reads `reader` to its end into the channel (on the caller's task, parking while the
    /// worker is two chunks behind). Returns when the body is all handed over, the source
    /// failed, or the worker stopped receiving (the channel closed).
    func feed(from reader: any RequestBodyReader) async {
        do {
            while let chunk = try await reader.next() { try await channel.send(.chunk(chunk)) }
            try await channel.send(.end)
        } catch is ChannelError {
            return
        } catch {
            try? await channel.send(.failure("\(error)"))
        }
    }
}
