import NetCore

/// A pooled connection of the blocking engine, with the read buffer its exchanges share.
final class BlockingConnection: PooledConnection {
    let stream: any BlockingByteStream
    let buffer: UnsafeMutableRawBufferPointer
    init(stream: any BlockingByteStream, bufferSize: Int) {
        self.stream = stream
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }
    deinit { buffer.deallocate() }
    var isReusable: Bool { stream.isReusable }
    func close() { stream.close() }
}

/// `LoopExchange`'s twin for worker threads: the same decoder, clock and pool rules, with
/// blocking reads (Poll-based waits) instead of parking.
final class BlockingExchange {
    private let connection: BlockingConnection
    private let key: PoolKey
    private let pool: ConnectionPool<BlockingConnection>
    private let clock: RequestClock
    private var decoder: ResponseDecoder
    private var scratch: UnsafeMutableRawBufferPointer { connection.buffer }
    private var released = false
    /// When the head must be complete (`HTTPClientConfiguration.headTimeout`), set once the
    /// request is sent.
    private var headDeadline: ContinuousClock.Instant?
    /// Detached before the connection goes back to the pool or is closed, so that a late
    /// cancel can never shut down a socket that another request (or descriptor) now uses.
    var cancellation: BlockingCancellation?
    let wasReused: Bool

    init(connection: BlockingConnection, reused: Bool, key: PoolKey, pool: ConnectionPool<BlockingConnection>,
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
    var isFinished: Bool { decoder.isFinished }
    /// The body's announced length, if any (to size `collect`'s array once).
    var expectedLength: Int? { decoder.head?.contentLength }

    func send(_ request: HTTPRequest, head: [UInt8]) throws {
        var message = head
        if let body = request.body { message += body }
        let wait = try clock.next(.idle)
        do {
            try message.withUnsafeBytes { try connection.stream.write($0, timeout: wait.limit) }
        } catch {
            throw clock.wrap(error, wait)
        }
    }

    func readHead() throws {
        headDeadline = clock.headDeadline()
        while decoder.head == nil {
            try fill()
        }
        finishIfDone()
    }

    private func fill() throws {
        let wait = try clock.next(.idle, headDeadline: decoder.head == nil ? headDeadline : nil)
        do {
            // Before the head, read a little: bytes after the head in the same read pass through
            // the parser (copied twice), while later body reads go straight to the reader.
            let window = decoder.head == nil ? UnsafeMutableRawBufferPointer(rebasing: scratch[0..<(8 << 10)]) : scratch
            let n = try connection.stream.read(into: window, timeout: wait.limit)
            if n == 0 {
                try decoder.ingestEndOfStream(incompleteClose: connection.stream.endedWithoutCloseNotify)
            } else {
                try decoder.ingest(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            }
        } catch {
            throw clock.wrap(error, wait)
        }
    }

    /// The next body bytes into `buffer`; 0 at the end. Errors close the connection.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
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
                        n = try connection.stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<direct]), timeout: wait.limit)
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
                    try fill()
                }
            }
        } catch {
            fail()
            throw error
        }
    }

    /// The next chunk, read straight into the array that is returned (no second copy), sized
    /// to what is left of a Content-Length body so a small body does not cost a large array.
    func nextChunk(maxBytes: Int) throws -> [UInt8]? {
        if let chunk = decoder.takePendingChunk() { return chunk }
        let direct = decoder.directLimit
        let size = direct > 0 ? min(maxBytes, direct) : scratch.count
        let chunk = try [UInt8](unsafeUninitializedCapacity: size) { storage, count in
            count = try read(into: UnsafeMutableRawBufferPointer(storage))
        }
        return chunk.isEmpty ? nil : chunk
    }

    func drain() {
        var budget = 64 << 10
        // A buffer of its own: pending bytes may live in the scratch buffer.
        let sink = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 16)
        defer { sink.deallocate() }
        do {
            while !decoder.isFinished, budget > 0 {
                let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: sink[0..<min(sink.count, budget)]))
                if n == 0 { break }
                budget -= n
            }
        } catch {
            return
        }
        if !decoder.isFinished { fail() } else { finishIfDone() }
    }

    private func finishIfDone() {
        guard !released, decoder.isFinished, let head = decoder.head else { return }
        released = true
        cancellation?.detach()
        if head.keepAlive {
            pool.checkIn(connection, for: key)
        } else {
            connection.close()
            pool.releasePermit(for: key)
        }
    }

    func fail(keepingPermit: Bool = false) {
        guard !released else { return }
        released = true
        cancellation?.detach()
        connection.close()
        if !keepingPermit { pool.releasePermit(for: key) }
    }
}
