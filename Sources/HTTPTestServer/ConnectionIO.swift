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

    init(stream: any AsyncByteStream, socket: StreamSocket, writeTimeout: Duration) {
        self.stream = stream
        self.socket = socket
        self.writeTimeout = writeTimeout
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

    /// Reads a chunked request body (RFC 9112 §7.1: sizes in hex, extensions ignored, trailers
    /// dropped), keeping at most `keep` bytes of it.
    /// - Returns: nil at an early end of the stream. - Throws: `ChunkedBodyError` for bad
    ///   framing or a body longer than `limit`; `NetError` and timeouts from the stream.
    func readChunkedBody(keep: Int, limit: UInt64, timeout: Duration) async throws -> [UInt8]? {
        var kept: [UInt8] = []
        var total: UInt64 = 0
        while true {
            guard let line = try await readLine(timeout: timeout) else { return nil }
            let sizeText = line.split(separator: UInt8(ascii: ";"), maxSplits: 1).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
            guard !sizeText.isEmpty, sizeText.count <= 15, let size = UInt64(sizeText.trimmingSpaces, radix: 16) else {
                throw ChunkedBodyError("bad chunk size line")
            }
            if size == 0 {
                // Trailers, then the empty line.
                while true {
                    guard let trailer = try await readLine(timeout: timeout) else { return nil }
                    if trailer.isEmpty { return kept }
                }
            }
            total += size
            guard total <= limit else { throw ChunkedBodyError("chunked body over \(limit) bytes") }
            guard let data = try await readBody(length: size, keep: max(0, keep - kept.count), timeout: timeout) else { return nil }
            kept += data
            guard let end = try await readLine(timeout: timeout), end.isEmpty else { throw ChunkedBodyError("no CRLF after a chunk") }
        }
    }

    /// One line ending in CRLF (without it), at most 4 KiB. - Returns: nil at the end of the stream.
    private func readLine(timeout: Duration) async throws -> [UInt8]? {
        var line: [UInt8] = []
        while true {
            if inputStart == inputEnd {
                inputStart = 0
                inputEnd = 0
                let n = try await stream.read(into: input, timeout: timeout)
                if n == 0 { return nil }
                inputEnd = n
            }
            let byte = input[inputStart]
            inputStart += 1
            if byte == 0x0A {
                guard line.last == 0x0D else { throw ChunkedBodyError("a bare LF in chunked framing") }
                return Array(line.dropLast())
            }
            line.append(byte)
            guard line.count <= 4096 else { throw ChunkedBodyError("a chunk line over 4 KiB") }
        }
    }

    // MARK: - Writing

    /// Writes every byte. - Throws: `NetError`, `TLSError`, `CancellationError`.
    func write(_ bytes: UnsafeRawBufferPointer) async throws {
        guard bytes.count > 0 else { return }
        try await stream.write(bytes, timeout: writeTimeout)
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

/// Chunked request framing the server cannot follow (answered 400).
struct ChunkedBodyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var trimmingSpaces: String {
        let isSpace = { (c: Character) in c == " " || c == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
