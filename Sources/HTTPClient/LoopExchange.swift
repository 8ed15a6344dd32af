import NetTLS
import NetCore

/// A pooled connection of the loop engine, with the read buffer its exchanges share (made once
/// per connection: a buffer per request cost a page fault per page, the largest cost of a
/// small request).
final class LoopConnection: PooledConnection {
    let stream: any AsyncByteStream
    let buffer: UnsafeMutableRawBufferPointer
    init(stream: any AsyncByteStream, bufferSize: Int) {
        self.stream = stream
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }
    deinit { buffer.deallocate() }
    var isReusable: Bool { stream.isReusable }
    func close() { stream.close() }
}

/// One request and its response on one connection, on the loop: sends the request, reads the
/// head, then serves the body to `HTTPBody` as the reader asks for it (no read-ahead: the
/// reader's pace is the socket's pace). Holds the origin's pool permit until the body ends.
final class LoopExchange: BodySource {
    private let connection: LoopConnection
    private let key: PoolKey
    private let pool: ConnectionPool<LoopConnection>
    private let clock: RequestClock
    private var decoder: ResponseDecoder
    /// The connection's buffer: the head and chunked framing pass through it; a Content-Length
    /// body goes straight into the reader's buffer instead.
    private var scratch: UnsafeMutableRawBufferPointer { connection.buffer }
    private var released = false
    /// When the head must be complete (`HTTPClientConfiguration.headTimeout`), set once the
    /// request is sent.
    private var headDeadline: ContinuousClock.Instant?
    let wasReused: Bool

    init(connection: LoopConnection, reused: Bool, key: PoolKey, pool: ConnectionPool<LoopConnection>,
         request: HTTPRequest, configuration: HTTPClientConfiguration, clock: RequestClock) {
        self.connection = connection
        wasReused = reused
        self.key = key
        self.pool = pool
        self.clock = clock
        decoder = ResponseDecoder(requestMethod: request.method, limits: configuration.parserLimits)
    }

    deinit {
        if !released { fail() }
    }

    var head: HTTPResponseHead? { decoder.head }
    var receivedAnything: Bool { decoder.receivedAnything }

    /// Writes the request (head and body). - Throws: the shared `HTTPClientError` cases.
    func send(_ request: HTTPRequest, head: [UInt8]) async throws {
        var message = head
        if let body = request.body { message += body }
        let wait = try clock.next(.idle)
        do {
            try await message.withUnsafeBytesCopy { try await connection.stream.write($0, timeout: wait.limit) }
        } catch {
            throw clock.wrap(error, wait)
        }
    }

    /// Reads until the response head is complete. - Throws: the shared `HTTPClientError` cases.
    func readHead() async throws {
        headDeadline = clock.headDeadline()
        while decoder.head == nil {
            try await fill()
        }
        finishIfDone()
    }

    /// One read from the connection through the parser.
    private func fill() async throws {
        let wait = try clock.next(.idle, headDeadline: decoder.head == nil ? headDeadline : nil)
        do {
            // Before the head, read a little: bytes after the head in the same read pass through
            // the parser (copied twice), while later body reads go straight to the reader.
            let window = decoder.head == nil ? UnsafeMutableRawBufferPointer(rebasing: scratch[0..<(8 << 10)]) : scratch
            let n = try await connection.stream.read(into: window, timeout: wait.limit)
            if n == 0 {
                try decoder.ingestEndOfStream(incompleteClose: connection.stream.endedWithoutCloseNotify)
            } else {
                try decoder.ingest(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            }
        } catch {
            throw clock.wrap(error, wait)
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        do {
            while true {
                let copied = decoder.copyPending(into: buffer)
                if copied > 0 { return copied }
                if decoder.isFinished {
                    finishIfDone()
                    return 0
                }
                let direct = min(decoder.directLimit, buffer.count)
                if direct > 0 {
                    let wait = try clock.next(.idle)
                    let n: Int
                    do {
                        n = try await connection.stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<direct]), timeout: wait.limit)
                    } catch {
                        throw clock.wrap(error, wait)
                    }
                    if n > 0 {
                        decoder.acceptDirect(n)
                        finishIfDone()
                        return n
                    }
                    do { try decoder.ingestEndOfStream(incompleteClose: connection.stream.endedWithoutCloseNotify) } catch { throw HTTPClientError.wrapping(error, timeout: .idle, limit: nil) }
                } else {
                    try await fill()
                }
            }
        } catch {
            fail()
            throw error
        }
    }

    /// The next chunk: read into the connection's buffer, then copied into an array of its
    /// exact size (an array cannot be filled across a suspension point).
    func nextChunk() async throws -> [UInt8]? {
        if let chunk = decoder.takePendingChunk() { return chunk }
        // Never `read(into: scratch)`: pending bytes may live in the scratch buffer itself.
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: scratch.count, alignment: 16)
        defer { storage.deallocate() }
        let n = try await read(into: storage)
        return n == 0 ? nil : Array(UnsafeRawBufferPointer(rebasing: storage[0..<n]))
    }

    /// The body's announced length, if any (to size `collect`'s array once).
    var expectedLength: Int? { decoder.head?.contentLength }

    /// Reads and drops a small body (a redirect's) so the connection can be reused; closes
    /// the connection instead when the body is large or slow.
    func drain() async {
        var budget = 64 << 10
        // A buffer of its own: pending bytes may live in the scratch buffer.
        let sink = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 16)
        defer { sink.deallocate() }
        do {
            while !decoder.isFinished, budget > 0 {
                let n = try await read(into: UnsafeMutableRawBufferPointer(rebasing: sink[0..<min(sink.count, budget)]))
                if n == 0 { break }
                budget -= n
            }
        } catch {
            return  // read() already closed it
        }
        if !decoder.isFinished { fail() } else { finishIfDone() }
    }

    func abandon() { fail() }

    /// Back to the pool once the body has ended and the server allows another request.
    private func finishIfDone() {
        guard !released, decoder.isFinished, let head = decoder.head else { return }
        released = true
        if head.keepAlive {
            pool.checkIn(connection, for: key)
        } else {
            connection.close()
            pool.releasePermit(for: key)
        }
    }

    /// Closes the connection (an error, or a body nobody will read) and frees the permit,
    /// unless the caller keeps it for a retry on a new connection.
    func fail(keepingPermit: Bool = false) {
        guard !released else { return }
        released = true
        connection.close()
        if !keepingPermit { pool.releasePermit(for: key) }
    }
}

extension Array where Element == UInt8 {
    /// Runs `body` on a copy of the bytes that the function owns, so no borrow of the array
    /// spans a suspension point.
    func withUnsafeBytesCopy<R>(_ body: (UnsafeRawBufferPointer) async throws -> R) async throws -> R {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(count, 1), alignment: 1)
        defer { copy.deallocate() }
        withUnsafeBytes { copy.copyMemory(from: $0) }
        return try await body(UnsafeRawBufferPointer(rebasing: copy[0..<count]))
    }
}
