#if canImport(Glibc)
import Glibc
#endif

/// The engine-independent half of reading a response: wraps the parser, keeps the head and
/// any body bytes that arrived with it, and says when a body read may bypass the parser.
/// Each engine's read loop is then a few lines of "read from the stream, hand it here".
struct ResponseDecoder {
    private var parser: HTTPResponseParser
    private(set) var head: HTTPResponseHead?
    private var pending: [[UInt8]] = []
    private var pendingIndex = 0
    private var pendingOffset = 0
    /// Body bytes that arrived in the same read as the head, left where they are (in the
    /// exchange's read buffer, which is not refilled while any are pending).
    private var rawPending = UnsafeRawBufferPointer(start: nil, count: 0)
    private(set) var isFinished = false
    /// Whether any byte of the response arrived (a reused connection that fails before one may be retried).
    private(set) var receivedAnything = false

    init(requestMethod: String, limits: HTTPParserLimits) {
        parser = HTTPResponseParser(requestMethod: requestMethod, limits: limits)
    }

    /// Feeds bytes read from the connection. Until the head is complete, the parser gets only
    /// up to the end of a header block; body bytes after it are then kept in place (not copied
    /// through the parser) when the parser allows it. The bytes must stay valid and unchanged
    /// until `hasPending` is false. - Throws: `HTTPParseError`.
    mutating func ingest(_ bytes: UnsafeRawBufferPointer) throws {
        if !bytes.isEmpty { receivedAnything = true }
        var rest = bytes[...]
        while head == nil && !rest.isEmpty {
            let cut = Self.endOfHeaderBlock(in: UnsafeRawBufferPointer(rebasing: rest)) ?? rest.count
            take(try parser.feed(UnsafeRawBufferPointer(rebasing: rest.prefix(cut))))
            rest = rest.dropFirst(cut)
        }
        if !rest.isEmpty, head != nil, !isFinished, !hasPending {
            let direct = min(rest.count, parser.directBodyLimit)
            if direct > 0 {
                rawPending = UnsafeRawBufferPointer(rebasing: rest.prefix(direct))
                if parser.consumeDirectBody(direct) != nil { isFinished = true }
                rest = rest.dropFirst(direct)
            }
        }
        if !rest.isEmpty { take(try parser.feed(UnsafeRawBufferPointer(rebasing: rest))) }
    }

    /// The index just past the first blank line ("\n\r\n" or "\n\n"), if the bytes hold one.
    private static func endOfHeaderBlock(in bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 2, let base = bytes.baseAddress else { return nil }
        var from = 0
        while from < bytes.count {
            guard let found = memchr(base + from, 0x0A, bytes.count - from) else { return nil }
            let index = base.distance(to: UnsafeRawPointer(found))
            if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return index + 2 }
            if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return index + 3 }
            from = index + 1
        }
        return nil
    }

    /// The connection reached end-of-stream. - Parameter incompleteClose: a TLS stream ended
    /// without close_notify. - Throws: `HTTPParseError.truncated` unless the message was
    /// complete (or delimited by a close that was not an incomplete one).
    mutating func ingestEndOfStream(incompleteClose: Bool = false) throws {
        take(try parser.finish(incompleteClose: incompleteClose))
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

    var hasPending: Bool { !rawPending.isEmpty || pendingIndex < pending.count }

    /// Copies buffered body bytes into `destination`. - Returns: bytes copied (0 if none).
    mutating func copyPending(into destination: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        if !rawPending.isEmpty, destination.count > 0 {
            copied = min(destination.count, rawPending.count)
            destination.baseAddress!.copyMemory(from: rawPending.baseAddress!, byteCount: copied)  // both non-empty
            rawPending = UnsafeRawBufferPointer(rebasing: rawPending[copied...])
            if !rawPending.isEmpty { return copied }
        }
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
        if !rawPending.isEmpty {
            defer { rawPending = UnsafeRawBufferPointer(start: nil, count: 0) }
            return Array(rawPending)
        }
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
