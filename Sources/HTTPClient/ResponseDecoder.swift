/// The engine-independent half of reading a response: wraps the parser, keeps the head and
/// any body bytes that arrived with it, and says when a body read may bypass the parser.
/// Each engine's read loop is then a few lines of "read from the stream, hand it here".
struct ResponseDecoder {
    private var parser: HTTPResponseParser
    private(set) var head: HTTPResponseHead?
    private var pending: [[UInt8]] = []
    private var pendingIndex = 0
    private var pendingOffset = 0
    private(set) var isFinished = false
    /// Whether any byte of the response arrived (a reused connection that fails before one may be retried).
    private(set) var receivedAnything = false

    init(requestMethod: String, limits: HTTPParserLimits) {
        parser = HTTPResponseParser(requestMethod: requestMethod, limits: limits)
    }

    /// Feeds bytes read from the connection. - Throws: `HTTPParseError`.
    mutating func ingest(_ bytes: UnsafeRawBufferPointer) throws {
        if !bytes.isEmpty { receivedAnything = true }
        take(try parser.feed(bytes))
    }

    /// The connection reached end-of-stream. - Throws: `HTTPParseError.truncated` unless the
    /// message was complete (or delimited by the close).
    mutating func ingestEndOfStream() throws {
        take(try parser.finish())
    }

    private mutating func take(_ events: [HTTPResponseEvent]) {
        for event in events {
            switch event {
            case .head(let value): head = value
            case .body(let bytes): if !bytes.isEmpty { pending.append(bytes) }
            case .end: isFinished = true
            }
        }
    }

    /// Body bytes the caller may read straight into its own buffer (0: go through `ingest`).
    var directLimit: Int {
        guard head != nil, !isFinished, !hasPending else { return 0 }
        return parser.directBodyLimit
    }

    /// Accounts for `count` body bytes read straight into the caller's buffer.
    mutating func acceptDirect(_ count: Int) {
        receivedAnything = true
        if parser.consumeDirectBody(count) != nil { isFinished = true }
    }

    var hasPending: Bool { pendingIndex < pending.count }

    /// Copies buffered body bytes into `destination`. - Returns: bytes copied (0 if none).
    mutating func copyPending(into destination: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        while copied < destination.count, pendingIndex < pending.count {
            let chunk = pending[pendingIndex]
            let n = min(destination.count - copied, chunk.count - pendingOffset)
            chunk.withUnsafeBytes { source in
                (destination.baseAddress! + copied).copyMemory(from: source.baseAddress! + pendingOffset, byteCount: n)  // both non-empty here
            }
            copied += n
            pendingOffset += n
            if pendingOffset == chunk.count { advancePending() }
        }
        return copied
    }

    /// The next buffered body chunk, whole. - Returns: nil if none.
    mutating func takePendingChunk() -> [UInt8]? {
        guard hasPending else { return nil }
        var chunk = pending[pendingIndex]
        if pendingOffset > 0 { chunk.removeFirst(pendingOffset) }
        advancePending()
        return chunk
    }

    private mutating func advancePending() {
        pendingIndex += 1
        pendingOffset = 0
        if pendingIndex == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
        }
    }
}
