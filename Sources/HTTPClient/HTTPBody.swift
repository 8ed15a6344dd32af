/// Where a body's bytes come from: a connection on the loop, or a worker's channel.
protocol BodySource: AnyObject {
    nonisolated(nonsending) func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int
    nonisolated(nonsending) func nextChunk() async throws -> [UInt8]?
    /// Stop early: the connection is closed, not reused.
    func abandon()
    /// The announced Content-Length, if any.
    var expectedLength: Int? { get }
}

/// A response body, read as it arrives: nothing is buffered beyond one read's worth, so a slow
/// reader slows the sender (TCP flow control) and memory stays bounded.
///
/// Read it with `read(into:)` (no copy beyond the kernel's), as an `AsyncSequence` of chunks,
/// or with `collect(upTo:)`. Reading to the end returns the connection to the pool; dropping
/// the body early closes the connection. Use it from the tasklet (loop) that made the request.
public final class HTTPBody: AsyncSequence, @unchecked Sendable {  // confined to the requesting loop, see above
    public typealias Element = [UInt8]
    public typealias Failure = any Error

    private let source: BodySource?
    private var ended = false
    /// Body bytes delivered so far.
    public private(set) var bytesReceived: UInt64 = 0

    init(source: BodySource?) {
        self.source = source
        ended = source == nil
    }

    deinit {
        if !ended { source?.abandon() }
    }

    /// Reads the next body bytes into `buffer`.
    /// - Returns: bytes read; 0 at the end of the body.
    /// - Throws: `HTTPClientError` (`.timedOut(.idle)`, `.network`, `.parse(.truncated)`, ...),
    ///   `CancellationError`. After an error the connection is closed.
    nonisolated(nonsending) public func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        guard !ended, let source else { return 0 }
        do {
            let n = try await source.read(into: buffer)
            if n == 0 { ended = true }
            bytesReceived += UInt64(n)
            return n
        } catch {
            ended = true
            throw error
        }
    }

    /// The next chunk as it arrived; nil at the end. - Throws: as `read(into:)`.
    nonisolated(nonsending) public func nextChunk() async throws -> [UInt8]? {
        guard !ended, let source else { return nil }
        do {
            guard let chunk = try await source.nextChunk() else {
                ended = true
                return nil
            }
            bytesReceived += UInt64(chunk.count)
            return chunk
        } catch {
            ended = true
            throw error
        }
    }

    /// Reads the whole body into memory.
    /// - Throws: `HTTPClientError.bodyTooLarge` beyond `limit` bytes; otherwise as `read(into:)`.
    nonisolated(nonsending) public func collect(upTo limit: Int = 16 << 20) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        if let expected = source?.expectedLength, expected <= limit { bytes.reserveCapacity(expected) }
        while let chunk = try await nextChunk() {
            guard bytes.count + chunk.count <= limit else {
                discard()
                throw HTTPClientError.bodyTooLarge(limit: limit)
            }
            bytes += chunk
        }
        return bytes
    }

    /// Stops reading: the connection is closed instead of going back to the pool.
    public func discard() {
        guard !ended else { return }
        ended = true
        source?.abandon()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let body: HTTPBody
        nonisolated(nonsending) public mutating func next() async throws -> [UInt8]? { try await body.nextChunk() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}

/// A response as `Client` returns it: what `ResponseMetadata` says (the final head after
/// redirects, where it came from, the validated range of a 206: `response.status`,
/// `response.url`, `response.rangeIgnored`, ... read through to it), and the body, still to be read.
@dynamicMemberLookup
public struct HTTPResponse: @unchecked Sendable {  // the body is confined to the requesting loop
    public var metadata: ResponseMetadata
    public var body: HTTPBody
    /// Which engine carried the request.
    public var engine: HTTPEngine

    public subscript<Value>(dynamicMember path: WritableKeyPath<ResponseMetadata, Value>) -> Value {
        get { metadata[keyPath: path] }
        set { metadata[keyPath: path] = newValue }
    }

    public subscript<Value>(dynamicMember path: KeyPath<ResponseMetadata, Value>) -> Value { metadata[keyPath: path] }
}
