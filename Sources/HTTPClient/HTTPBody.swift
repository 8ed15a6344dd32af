/// Where a body's bytes come from: a connection on the loop, or a worker's channel.
protocol BodySource: AnyObject {
    nonisolated(nonsending) func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int
    nonisolated(nonsending) func nextChunk() async throws -> [UInt8]?
    /// Stop early: the connection is closed, not reused.
    func abandon()
    /// The announced Content-Length, if any.
    var expectedLength: Int? { get }
    /// What a read can take without parking (see `AsyncExchangeDriver.readWithoutWaiting`).
    func readWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int?
    /// The next chunk if it needs no wait: `.some(nil)` at the end, nil when a wait is needed.
    func nextChunkWithoutWaiting() throws -> [UInt8]??
}

extension BodySource {
    /// Sources that cannot tell say that a wait is needed: the caller then reads with one.
    func readWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? { nil }
    func nextChunkWithoutWaiting() throws -> [UInt8]?? { nil }
}

/// A response body, read as it arrives: nothing is buffered beyond one read's worth, so a slow
/// reader slows the sender (TCP flow control) and memory stays bounded.
///
/// Read it with `read(into:)` (no copy beyond the kernel's), as an `AsyncSequence` of chunks,
/// or with `collect(upTo:)`. Reading to the end returns the connection to the pool; dropping
/// the body early closes the connection. One reader at a time: from a tasklet, read it on the
/// loop that made the request; a body of a request made outside a tasklet comes over a channel
/// from the client's loop and may be read from any task (it may be sent to another).
// @unchecked: a loop body is confined to its loop; a channel body's source is read by one task
// at a time (it is a sequence of awaits, never two at once), and its channel is thread-safe.
public final class HTTPBody: AsyncSequence, @unchecked Sendable {
    /// A chunk of body bytes as it arrived (de-chunked; decoded when decompression is on).
    public typealias Element = [UInt8]
    /// What a read throws: `HTTPClientError`, or `CancellationError`.
    public typealias Failure = any Error

    private let source: BodySource?
    private var progress: BodyProgress
    /// Body bytes delivered so far.
    public var bytesReceived: UInt64 { progress.bytesReceived }

    init(source: BodySource?) {
        self.source = source
        progress = BodyProgress(ended: source == nil)
    }

    deinit {
        if !progress.ended { source?.abandon() }
    }

    /// Reads the next body bytes into `buffer`.
    /// - Returns: bytes read; 0 at the end of the body.
    /// - Throws: `HTTPClientError` (`.timedOut(.idle)`, `.network`, `.parse(.truncated)`, ...),
    ///   `CancellationError`. After an error the connection is closed.
    nonisolated(nonsending) public func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        guard !progress.ended, let source else { return 0 }
        let count: Int
        do { count = try await source.read(into: buffer) } catch { throw progress.ending(error) }
        return progress.counted(count)
    }

    /// `read(into:)` without parking: nil when the next bytes have not arrived (or the source
    /// cannot tell). Thread: see `AsyncExchangeDriver.readWithoutWaiting`. - Throws: as `read(into:)`.
    func readWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard !progress.ended, let source else { return 0 }
        let count: Int?
        do { count = try source.readWithoutWaiting(into: buffer) } catch { throw progress.ending(error) }
        return count.map { progress.counted($0) }
    }

    /// `nextChunk()` without parking: `.some(nil)` at the end, nil when a wait is needed.
    func nextChunkWithoutWaiting() throws -> [UInt8]?? {
        guard !progress.ended, let source else { return .some(nil) }
        let chunk: [UInt8]??
        do { chunk = try source.nextChunkWithoutWaiting() } catch { throw progress.ending(error) }
        guard let chunk else { return nil }
        return .some(progress.counted(chunk))
    }

    /// The source's own reader side, for the hop that reads a loop body from another task.
    var loopDriver: AsyncExchangeDriver? { source as? AsyncExchangeDriver }

    /// The next chunk as it arrived; nil at the end. - Throws: as `read(into:)`.
    nonisolated(nonsending) public func nextChunk() async throws -> [UInt8]? {
        guard !progress.ended, let source else { return nil }
        let chunk: [UInt8]?
        do { chunk = try await source.nextChunk() } catch { throw progress.ending(error) }
        return progress.counted(chunk)
    }

    /// Reads the whole body into memory.
    /// - Throws: `HTTPClientError.bodyTooLarge` beyond `limit` bytes; otherwise as `read(into:)`.
    nonisolated(nonsending) public func collect(upTo limit: Int = 16 << 20) async throws -> [UInt8] {
        var collected = BodyCollector(expectedLength: source?.expectedLength, limit: limit)
        while let chunk = try await nextChunk() { try collected.append(chunk, orElse: discard) }
        return collected.bytes
    }

    /// Stops reading: the connection is closed instead of going back to the pool.
    public func discard() {
        if progress.end() { source?.abandon() }
    }

    /// Iterates the body's chunks by calling `nextChunk()`; the body itself holds the position,
    /// so two iterators over one body share it (and must not run at once).
    public struct AsyncIterator: AsyncIteratorProtocol {
        let body: HTTPBody
        /// The next chunk, or nil at the end of the body. - Throws: as `HTTPBody.read(into:)`.
        nonisolated(nonsending) public mutating func next() async throws -> [UInt8]? { try await body.nextChunk() }
    }

    /// An iterator over the chunks still to come (reading advances the body).
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}

/// What a body of either engine counts: whether it ended, and the bytes it delivered.
struct BodyProgress {
    private(set) var ended: Bool
    private(set) var bytesReceived: UInt64 = 0

    init(ended: Bool = false) { self.ended = ended }

    /// Counts a read of `count` bytes; 0 ends the body. - Returns: `count`.
    mutating func counted(_ count: Int) -> Int {
        if count == 0 { ended = true }
        bytesReceived += UInt64(count)
        return count
    }

    /// Counts a chunk; nil ends the body. - Returns: `chunk`.
    mutating func counted(_ chunk: [UInt8]?) -> [UInt8]? {
        _ = counted(chunk?.count ?? 0)
        return chunk
    }

    /// Ends the body at a read's error. - Returns: `error`, to throw.
    mutating func ending(_ error: any Error) -> any Error {
        ended = true
        return error
    }

    /// Ends the body early. - Returns: whether it had not ended yet (the connection must close).
    mutating func end() -> Bool {
        defer { ended = true }
        return !ended
    }
}

/// `collect(upTo:)` of either engine: the chunks into one array, within a limit.
struct BodyCollector {
    private(set) var bytes: [UInt8] = []
    let limit: Int

    /// - Parameter expectedLength: the announced length: the array is sized once when it fits.
    init(expectedLength: Int?, limit: Int) {
        self.limit = limit
        if let expectedLength, expectedLength <= limit { bytes.reserveCapacity(expectedLength) }
    }

    /// Appends `chunk`. - Throws: `HTTPClientError.bodyTooLarge` past the limit, after calling
    /// `discard` (the rest of the body is not read).
    mutating func append(_ chunk: [UInt8], orElse discard: () -> Void) throws {
        guard bytes.count + chunk.count <= limit else {
            discard()
            throw HTTPClientError.bodyTooLarge(limit: limit)
        }
        bytes += chunk
    }
}

/// A response as `Client` returns it: what `ResponseMetadata` says (the final head after
/// redirects, where it came from, the validated range of a 206: `response.status`,
/// `response.url`, `response.rangeIgnored`, ... read through to it), and the body, still to be read.
@dynamicMemberLookup
public struct HTTPResponse: @unchecked Sendable {  // as `HTTPBody`: one reader at a time, see there
    /// The final head, its URL, redirects, range and timings.
    public var metadata: ResponseMetadata
    /// The body, not yet read: reading it to the end returns the connection to the pool;
    /// `discard()` (or dropping it) closes the connection.
    public var body: HTTPBody
    /// Which engine carried the request.
    public var engine: HTTPEngine

    /// Reads `metadata`'s properties through the response (`response.status`, `response.url`).
    public subscript<Value>(dynamicMember path: KeyPath<ResponseMetadata, Value>) -> Value { metadata[keyPath: path] }
}
