#if canImport(Glibc)
    import Glibc
#endif

/// The sizes both engines read with, in one place (the loop and blocking engines repeated
/// them before and drifted).
@usableFromInline enum HTTPReadSizes {  // usable from inline: public defaults use it
    /// A head is read through this much of the connection's buffer: bytes after the head in
    /// the same read pass through the parser (copied twice), while later Content-Length body
    /// reads go straight to the reader, so a small first read wins.
    static let headWindow = 8 << 10
    /// The most of a redirect's (or rejected response's) body read and dropped to keep its
    /// connection; a longer body closes the connection instead.
    static let drainBudget = 64 << 10
    /// `HTTPClientConfiguration.connectionBufferSize`'s default: a loop engine chunk's most.
    @usableFromInline static let connectionBuffer = 64 << 10
    /// `HTTPClientConfiguration.readBufferSize`'s default: a workers engine chunk's most
    /// (each crosses the channel as one message, so larger than the loop engine's).
    @usableFromInline static let workersChunk = 256 << 10
}

/// A connection's read buffer, made once per connection: a buffer per request cost a page
/// fault per page, the largest cost of a small request. Only the `ResponseDecoder` of the
/// connection's current exchange touches its bytes.
final class ReadBuffer {
    let bytes: UnsafeMutableRawBufferPointer
    /// - Parameter size: bytes, at least `HTTPReadSizes.headWindow`.
    init(size: Int) {
        bytes = .allocate(byteCount: max(size, HTTPReadSizes.headWindow), alignment: 16)
    }
    deinit { bytes.deallocate() }
}

/// The response half of an exchange, over the parser: it owns the connection's read buffer
/// for the exchange (it says where the next read goes, `readWindow`, and is then told how
/// many bytes landed there, `ingestRead`), keeps the head and the body bytes that arrived
/// with it, and says when a body read may bypass the parser (`directLimit`).
///
/// Because it hands out the window itself, and only while no body bytes are pending in the
/// buffer, nothing outside it has to keep pending bytes alive: there is no borrowing contract.
/// Self-contained (parser, headers and errors only) so that the response-path fuzzer compiles it.
struct ResponseDecoder {
    private var parser: HTTPResponseParser
    private let buffer: ReadBuffer
    private(set) var head: HTTPResponseHead?
    private var pending: [[UInt8]] = []
    private var pendingIndex = 0
    private var pendingOffset = 0
    /// Body bytes that arrived in the same read as the head, left where they are in `buffer`.
    private var rawPending: Range<Int> = 0..<0
    private(set) var isFinished = false
    /// Whether any byte of the response arrived (a reused connection that fails before one may be retried).
    private(set) var receivedAnything = false
    /// Interim (1xx) responses the parser has skipped (a 100 Continue is one).
    var interimResponseCount: Int { parser.interimResponseCount }

    init(requestMethod: String, limits: HTTPParserLimits, buffer: ReadBuffer) {
        parser = HTTPResponseParser(requestMethod: requestMethod, limits: limits)
        self.buffer = buffer
    }

    /// Where the next read from the connection goes: the head window until the head is
    /// complete, then the whole buffer. Empty while body bytes are pending in the buffer
    /// (copy them out first: `copyPending`, `takePendingChunk`).
    var readWindow: UnsafeMutableRawBufferPointer {
        if !rawPending.isEmpty { return UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[0..<0]) }
        let size = head == nil ? HTTPReadSizes.headWindow : buffer.bytes.count
        return UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[0..<size])
    }

    /// Bytes of the buffer, the most one `readWindow` can be.
    var capacity: Int { buffer.bytes.count }

    /// Feeds the `count` bytes that a read put at the start of `readWindow`. Until the head is
    /// complete, the parser gets only up to the end of a header block; body bytes after it are
    /// then kept in place (not copied through the parser) when the parser allows it.
    /// - Throws: `HTTPParseError`.
    mutating func ingestRead(_ count: Int) throws {
        precondition(rawPending.isEmpty && count <= readWindow.count, "a read outside the decoder's window")
        if count > 0 { receivedAnything = true }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<count])
        var rest = 0..<count
        while head == nil && !rest.isEmpty {
            let slice = UnsafeRawBufferPointer(rebasing: bytes[rest])
            let cut = Self.endOfHeaderBlock(in: slice) ?? rest.count
            take(try parser.feed(UnsafeRawBufferPointer(rebasing: slice.prefix(cut))))
            rest = (rest.lowerBound + cut)..<rest.upperBound
        }
        if !rest.isEmpty, head != nil, !isFinished, !hasPending {
            let direct = min(rest.count, parser.directBodyLimit)
            if direct > 0 {
                rawPending = rest.lowerBound..<(rest.lowerBound + direct)
                if parser.consumeDirectBody(direct) != nil { isFinished = true }
                rest = rawPending.upperBound..<rest.upperBound
            }
        }
        if !rest.isEmpty { take(try parser.feed(UnsafeRawBufferPointer(rebasing: bytes[rest]))) }
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

    /// Body bytes the caller may read straight into its own buffer (0: read into `readWindow`).
    var directLimit: Int {
        guard head != nil, !isFinished, !hasPending else { return 0 }
        return parser.directBodyLimit
    }

    /// Accounts for `count` body bytes read straight into the caller's buffer.
    mutating func acceptDirect(_ count: Int) {
        receivedAnything = true
        if parser.consumeDirectBody(count) != nil { isFinished = true }
    }

    /// Accounts for `count` body bytes that a read put at the start of `readWindow` straight
    /// from the connection (at most `directLimit`): they wait there like bytes after a head.
    mutating func acceptDirectInWindow(_ count: Int) {
        precondition(rawPending.isEmpty && count <= min(readWindow.count, directLimit), "a direct read outside the window")
        acceptDirect(count)
        rawPending = 0..<count
    }

    /// Body bytes buffered, ready to copy out.
    var pendingCount: Int {
        rawPending.count + pending[pendingIndex...].reduce(0) { $0 + $1.count } - pendingOffset
    }

    var hasPending: Bool { !rawPending.isEmpty || pendingIndex < pending.count }

    /// Copies buffered body bytes into `destination`. - Returns: bytes copied (0 if none).
    mutating func copyPending(into destination: UnsafeMutableRawBufferPointer) -> Int {
        guard let target = destination.baseAddress else { return 0 }
        var copied = 0
        if !rawPending.isEmpty {
            copied = min(destination.count, rawPending.count)
            UnsafeMutableRawBufferPointer(rebasing: destination[0..<copied])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer.bytes[rawPending.prefix(copied)]))
            rawPending = rawPending.dropFirst(copied)
            if !rawPending.isEmpty { return copied }
        }
        while copied < destination.count, pendingIndex < pending.count {
            let chunk = pending[pendingIndex]
            let n = min(destination.count - copied, chunk.count - pendingOffset)
            chunk.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(start: target + copied, count: n)
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[pendingOffset..<(pendingOffset + n)]))
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
            defer { rawPending = 0..<0 }
            return Array(UnsafeRawBufferPointer(rebasing: buffer.bytes[rawPending]))
        }
        guard hasPending else { return nil }
        var chunk = pending[pendingIndex]
        if pendingOffset > 0 { chunk.removeFirst(pendingOffset) }
        advancePending()
        return chunk
    }

    /// Drops every buffered body byte (a body nobody reads). - Returns: how many.
    mutating func dropPending() -> Int {
        var dropped = rawPending.count
        rawPending = 0..<0
        while pendingIndex < pending.count {
            dropped += pending[pendingIndex].count - pendingOffset
            advancePending()
        }
        return dropped
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
