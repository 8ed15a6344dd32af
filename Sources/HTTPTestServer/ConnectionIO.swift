import NetCore
import NetTLS

/// One accepted connection's byte I/O: a bounded input buffer for request heads and bodies, a
/// large output buffer for generated bodies, and the stream (plain socket or TLS) under them.
///
/// Confined to the connection's tasklet on the server loop's thread.
final class ConnectionIO {
    /// The largest request head (request line, fields, terminating empty line) accepted.
    static let maxHeadBytes = 64 << 10
    /// Output buffer size: big writes are what lets the server move GB/s over loopback.
    static let outputCapacity = 256 << 10

    let stream: any AsyncByteStream
    /// The TCP socket under `stream` (the same object for plain HTTP): for SO_LINGER and shutdown.
    let socket: StreamSocket
    /// How long a write may wait for the peer to make room before the connection is dropped.
    let writeTimeout: Duration

    private let input: UnsafeMutableRawBufferPointer
    private var inputStart = 0
    private var inputEnd = 0
    /// Reused for every generated body on this connection.
    let output: UnsafeMutableRawBufferPointer

    /// Where completed writes are counted.
    private let counters: ServerCounters

    init(stream: any AsyncByteStream, socket: StreamSocket, writeTimeout: Duration, counters: ServerCounters) {
        self.stream = stream
        self.socket = socket
        self.writeTimeout = writeTimeout
        self.counters = counters
        input = .allocate(byteCount: Self.maxHeadBytes + 4096, alignment: 8)
        output = .allocate(byteCount: Self.outputCapacity, alignment: 8)
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }

    var isPlain: Bool { stream === socket }

    // MARK: - Reading

    enum HeadOutcome {
        case head(RequestHead)
        /// The peer closed (or went idle past the timeout) between requests: close quietly.
        case endOfStream
        /// The head ended before its empty line: the peer gave up mid-request.
        case truncated
        /// More than `maxHeadBytes` without the empty line (431).
        case tooLarge
        case invalid(RequestHeadError)
    }

    /// Reads the next request head, parking until it is complete.
    /// - Parameter idleTimeout: how long each wait for bytes may take; past it the connection
    ///   counts as closed by the peer (the keep-alive timeout).
    /// - Throws: `NetError` other than a timeout, `TLSError`, `CancellationError`.
    func readHead(idleTimeout: Duration) async throws -> HeadOutcome {
        var scanFrom = inputStart
        while true {
            if let end = headEnd(from: scanFrom) {
                let bytes = Array(UnsafeRawBufferPointer(rebasing: input[inputStart..<end.headEnd]))
                inputStart = end.next
                do {
                    return .head(try RequestHead.parse(bytes[...]))
                } catch {
                    return .invalid(error)
                }
            }
            scanFrom = max(inputStart, inputEnd - 3)
            if inputEnd - inputStart >= Self.maxHeadBytes { return .tooLarge }
            let hadBytes = inputEnd > inputStart
            compact(&scanFrom)
            let n: Int
            do {
                n = try await stream.read(into: UnsafeMutableRawBufferPointer(rebasing: input[inputEnd...]), timeout: idleTimeout)
            } catch let error as NetError where error.kind == .timedOut || error.kind == .connectionReset {
                return hadBytes ? .truncated : .endOfStream
            }
            if n == 0 { return hadBytes ? .truncated : .endOfStream }
            inputEnd += n
        }
    }

    /// Finds the empty line ending a head (CRLF CRLF, or LF LF / LF CRLF for bare-LF clients).
    private func headEnd(from start: Int) -> (headEnd: Int, next: Int)? {
        var index = max(start, inputStart)
        while index < inputEnd {
            if input[index] == UInt8(ascii: "\n") {
                if index + 1 < inputEnd && input[index + 1] == UInt8(ascii: "\n") {
                    return (index, index + 2)
                }
                if index + 2 < inputEnd && input[index + 1] == UInt8(ascii: "\r") && input[index + 2] == UInt8(ascii: "\n") {
                    return (index, index + 3)
                }
            }
            index += 1
        }
        return nil
    }

    /// Moves unread bytes to the front so the next read has room.
    private func compact(_ scanFrom: inout Int) {
        guard inputStart > 0 else { return }
        let count = inputEnd - inputStart
        if count > 0 {
            input.baseAddress!.copyMemory(from: input.baseAddress! + inputStart, byteCount: count)  // allocated, non-empty
        }
        scanFrom -= inputStart
        inputStart = 0
        inputEnd = count
    }

    /// Reads a request body of `length` bytes; keeps at most `keep` of them and discards the rest.
    /// - Returns: the kept bytes, or nil if the peer closed before the whole body came.
    /// - Throws: as `readHead`, and `NetError.timedOut` after `timeout` without a byte.
    func readBody(length: UInt64, keep: Int, timeout: Duration) async throws -> [UInt8]? {
        var kept: [UInt8] = []
        var remaining = length
        while remaining > 0 {
            if inputStart == inputEnd {
                inputStart = 0
                inputEnd = 0
                let n = try await stream.read(into: input, timeout: timeout)
                if n == 0 { return nil }
                inputEnd = n
            }
            let take = Int(min(UInt64(inputEnd - inputStart), remaining))
            if kept.count < keep {
                let slice = UnsafeRawBufferPointer(rebasing: input[inputStart..<(inputStart + min(take, keep - kept.count))])
                kept.append(contentsOf: slice)
            }
            inputStart += take
            remaining -= UInt64(take)
        }
        return kept
    }

    /// Reads a chunked request body (RFC 9112 §7.1, decoded by `ChunkedBodyDecoder`), keeping
    /// at most `keep` bytes of it; bytes after its end stay in the buffer for the next request.
    /// - Returns: nil at an early end of the stream. - Throws: `ChunkedBodyError` for bad
    ///   framing or a body longer than `limit`; `NetError` and timeouts from the stream.
    func readChunkedBody(keep: Int, limit: UInt64, timeout: Duration) async throws -> [UInt8]? {
        var decoder = ChunkedBodyDecoder(keep: keep, limit: limit)
        while true {
            if inputStart == inputEnd {
                inputStart = 0
                inputEnd = 0
                let n = try await stream.read(into: input, timeout: timeout)
                if n == 0 {
                    if let error = decoder.errorAtEndOfStream { throw error }
                    return nil
                }
                inputEnd = n
            }
            inputStart += try decoder.feed(UnsafeRawBufferPointer(rebasing: input[inputStart..<inputEnd]))
            if decoder.isComplete { return decoder.kept }
        }
    }

    // MARK: - Writing

    /// Writes every byte. - Throws: `NetError`, `TLSError`, `CancellationError`.
    func write(_ bytes: UnsafeRawBufferPointer) async throws {
        guard bytes.count > 0 else { return }
        try await stream.write(bytes, timeout: writeTimeout)
        counters.bytesSent.add(bytes.count, ordering: .relaxed)
    }

    /// Writes every byte of an array. - Throws: as `write(_:)`.
    func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        // Copy out so no borrow of the array spans a suspension.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
        try await write(UnsafeRawBufferPointer(copy))
    }

    /// Writes the first `count` bytes of the output buffer.
    func writeOutput(count: Int) async throws {
        try await write(UnsafeRawBufferPointer(rebasing: output[0..<count]))
    }

    // MARK: - Closing

    /// Closes after a response that ends the connection: for plain TCP, send FIN first and read
    /// what the peer still sends for a moment, so unread request bytes do not turn the close into
    /// a reset that could destroy the response before the client reads it.
    func closeGracefully() async {
        if isPlain, (try? socket.shutdown(.write)) != nil {
            let deadline = ContinuousClock.now + .milliseconds(500)
            var drained = 0
            while drained < 1 << 20 {
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero else { break }
                guard let n = try? await socket.read(into: input, timeout: left), n > 0 else { break }
                drained += n
            }
        }
        stream.close()
        socket.close()
    }

    /// Closes with SO_LINGER 0: the peer's next read fails with ECONNRESET. The socket is closed
    /// before the stream so that a TLS stream sends no close_notify first.
    func reset() {
        try? socket.setLingerZero()
        socket.close()
        stream.close()
    }
}
