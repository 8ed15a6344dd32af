import NetCore
import Testing

@testable import HTTPClient

/// The exchange machine fed bytes with no socket: what each engine's driver does, done by a
/// script, so every rule (keep-alive, the stale-connection retry, framing, direct reads) is
/// checked once for both engines.
@Suite struct ExchangeMachineTests {
    /// What one read of the scripted connection returns.
    enum Incoming {
        case bytes([UInt8])
        case end
        case fails(any Error)
    }

    /// A connection played from a script: reads take the next piece (a piece larger than the
    /// read's buffer is split), writes are recorded. Past the script, reads find the end.
    final class ScriptedConnection {
        var incoming: [Incoming]
        var written: [UInt8] = []
        /// Byte counts of the reads that went straight into the caller's buffer.
        var directReads: [Int] = []
        var writeFailure: (any Error)?
        /// How many writes go through before `writeFailure` applies (0: it applies to the first).
        var writeFailureAfter = 0
        private var writes = 0
        /// A streamed request body's chunks, handed to the machine one by one.
        var bodyChunks: [[UInt8]] = []
        /// Chunks the machine asked for.
        var chunksAsked = 0

        init(_ incoming: [Incoming]) { self.incoming = incoming }

        /// One machine step, its I/O done against the script, as a driver does it.
        func run(_ machine: inout HTTPExchangeMachine, into destination: HTTPExchangeMachine.Destination) -> HTTPExchangeMachine.Action {
            var input = HTTPExchangeMachine.Input.start
            while true {
                let action = machine.next(input, into: destination)
                if case .readBody(let buffer, _) = action { directReads.append(buffer.count) }
                guard let io = action.io else { return action }
                switch io {
                case .write(let bytes, _):
                    if let writeFailure, writes >= writeFailureAfter {
                        input = .ioFailed(writeFailure)
                    } else {
                        writes += 1
                        written += bytes
                        input = .wrote
                    }
                case .read(let buffer, _):
                    input = read(into: buffer)
                case .nextBodyChunk:
                    chunksAsked += 1
                    input = .bodyChunk(bodyChunks.isEmpty ? nil : bodyChunks.removeFirst())
                }
            }
        }

        private func read(into buffer: UnsafeMutableRawBufferPointer) -> HTTPExchangeMachine.Input {
            guard !incoming.isEmpty else { return .read(0, endedWithoutCloseNotify: false) }
            switch incoming.removeFirst() {
            case .bytes(let bytes):
                let count = min(bytes.count, buffer.count)
                bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                if count < bytes.count { incoming.insert(.bytes(Array(bytes[count...])), at: 0) }
                return .read(count, endedWithoutCloseNotify: false)
            case .end:
                return .read(0, endedWithoutCloseNotify: false)
            case .fails(let error):
                return .ioFailed(error)
            }
        }
    }

    static let reset = NetError(kind: .connectionReset, errno: 104, operation: "recv")

    static func machine(
        _ method: String = "GET", body: [UInt8]? = nil, reused: Bool = false,
        bufferSize: Int = 16 << 10
    ) throws -> HTTPExchangeMachine {
        let request = try HTTPRequest("http://127.0.0.1:1/x", method: method, body: body)
        let head = try RequestWriter.head(for: request, userAgent: "test")
        return HTTPExchangeMachine(
            request: request, head: head, reused: reused, buffer: ReadBuffer(size: bufferSize),
            clock: RequestClock(HTTPClientConfiguration()), limits: HTTPParserLimits())
    }

    static func bytes(_ text: String) -> Incoming { .bytes(Array(text.utf8)) }

    /// Reads the whole body into a buffer of `readSize` bytes. - Returns: the body, and the
    /// action that ended it (`finished` or `failed`), with any `reuse` a delivery carried.
    static func readBody(_ machine: inout HTTPExchangeMachine, from connection: ScriptedConnection, readSize: Int = 4096)
        -> (body: [UInt8], end: HTTPExchangeMachine.Action, reuse: Bool?)
    {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readSize, alignment: 1)
        defer { buffer.deallocate() }
        var body: [UInt8] = []
        var reuse: Bool?
        while true {
            let action = connection.run(&machine, into: .caller(buffer))
            switch action {
            case .deliver(let count, let ended):
                body += UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if let ended { reuse = ended }
            default:
                return (body, action, reuse)
            }
        }
    }

    // MARK: - The stale-connection retry rule

    @Test func aReusedConnectionClosedBeforeAnyByteMayRetryAGetButNotAPost() throws {
        for (method, retryable) in [("GET", true), ("HEAD", true), ("PUT", true), ("POST", false)] {
            var machine = try Self.machine(method, body: method == "POST" || method == "PUT" ? [1, 2, 3] : nil, reused: true)
            let action = ScriptedConnection([.end]).run(&machine, into: .none)
            guard case .failed(let error, let mayRetry) = action else {
                Issue.record("\(method): \(action)")
                continue
            }
            #expect(mayRetry == retryable, "\(method)")
            guard case HTTPClientError.parse(.truncated) = error else {
                Issue.record("\(method): \(error)")
                continue
            }
        }
    }

    @Test func aResetOrBrokenPipeOnAReusedConnectionIsRetryable() throws {
        var machine = try Self.machine(reused: true)
        guard case .failed(let error, true) = ScriptedConnection([.fails(Self.reset)]).run(&machine, into: .none) else {
            Issue.record("a reset before any byte is the stale-connection case")
            return
        }
        #expect((error as? HTTPClientError).map { if case .network = $0 { true } else { false } } == true, "\(error)")
        let pipe = NetError(kind: .brokenPipe, errno: 32, operation: "send")
        var writing = try Self.machine(reused: true)
        let connection = ScriptedConnection([])
        connection.writeFailure = pipe
        guard case .failed(_, true) = connection.run(&writing, into: .none) else {
            Issue.record("a broken pipe while sending is the stale-connection case")
            return
        }
    }

    @Test func aFreshConnectionOrAByteReceivedIsNeverRetryable() throws {
        var fresh = try Self.machine(reused: false)
        guard case .failed(_, false) = ScriptedConnection([.end]).run(&fresh, into: .none) else {
            Issue.record("a new connection the server closed is a real failure")
            return
        }
        var partial = try Self.machine(reused: true)
        guard case .failed(_, false) = ScriptedConnection([Self.bytes("HTTP/1.1 200"), .end]).run(&partial, into: .none) else {
            Issue.record("part of a head arrived: the server answered, so the request may have run")
            return
        }
        var refused = try Self.machine(reused: true)
        let other = NetError(kind: .timedOut, errno: 110, operation: "recv")
        guard case .failed(_, false) = ScriptedConnection([.fails(other)]).run(&refused, into: .none) else {
            Issue.record("a timeout is no sign of a stale connection")
            return
        }
    }

    // MARK: - Writing the request

    @Test func theRequestHeadAndBodyAreWrittenOnceBeforeTheHeadIsRead() throws {
        var machine = try Self.machine("POST", body: Array("hello".utf8))
        let connection = ScriptedConnection([Self.bytes("HTTP/1.1 204 No Content\r\n\r\n")])
        guard case .headReady(reuse: true) = connection.run(&machine, into: .none) else {
            Issue.record("a 204 ends with its head, and the connection is kept")
            return
        }
        let text = String(decoding: connection.written, as: UTF8.self)
        #expect(text.hasPrefix("POST /x HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"))
        #expect(text.hasSuffix("Content-Length: 5\r\n\r\nhello"))
        #expect(machine.head?.status == 204)
    }

    // MARK: - Keep-alive

    @Test func keepAliveFinishesWithReuse() throws {
        var machine = try Self.machine()
        let connection = ScriptedConnection([Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), Self.bytes("lo")])
        guard case .headReady(reuse: nil) = connection.run(&machine, into: .none) else {
            Issue.record("the head, the body still to come")
            return
        }
        let read = Self.readBody(&machine, from: connection)
        #expect(read.body == Array("hello".utf8))
        #expect(read.reuse == true, "the last byte's delivery gives the connection back")
        guard case .finished = read.end else {
            Issue.record("\(read.end)")
            return
        }
    }

    @Test func connectionCloseFinishesWithoutReuse() throws {
        var machine = try Self.machine()
        let connection = ScriptedConnection([Self.bytes("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")])
        _ = connection.run(&machine, into: .none)
        let read = Self.readBody(&machine, from: connection)
        #expect(read.body == Array("ok".utf8))
        #expect(read.reuse == false, "Connection: close")

        var chunked = try Self.machine()
        let second = ScriptedConnection([
            Self.bytes("HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
        ])
        _ = second.run(&chunked, into: .none)
        let body = Self.readBody(&chunked, from: second)
        #expect(body.body == Array("ok".utf8))
        guard case .finished(reuse: false) = body.end else {
            Issue.record("a chunked body that ends after the chunks have been copied: \(body.end)")
            return
        }
    }

    @Test func aBodyDelimitedByTheCloseIsNeverReused() throws {
        var machine = try Self.machine()
        let connection = ScriptedConnection([Self.bytes("HTTP/1.1 200 OK\r\n\r\nall of it"), .end])
        _ = connection.run(&machine, into: .none)
        let read = Self.readBody(&machine, from: connection)
        #expect(read.body == Array("all of it".utf8))
        guard case .finished(reuse: false) = read.end else {
            Issue.record("\(read.end)")
            return
        }
    }

    // MARK: - Framing

    @Test func bytesBeyondTheContentLengthAreAnError() throws {
        var machine = try Self.machine()
        let connection = ScriptedConnection([Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")])
        _ = connection.run(&machine, into: .none)
        let read = Self.readBody(&machine, from: connection)
        guard case .failed(HTTPClientError.parse(.dataAfterEndOfMessage), false) = read.end else {
            Issue.record("extra bytes after the body: \(read.end)")
            return
        }
        #expect(read.reuse == nil, "a connection with bytes nobody asked for is never given back")
    }

    @Test func endOfStreamMidChunkIsTruncated() throws {
        var machine = try Self.machine()
        let connection = ScriptedConnection([Self.bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nabc"), .end])
        _ = connection.run(&machine, into: .none)
        let read = Self.readBody(&machine, from: connection)
        #expect(read.body == Array("abc".utf8))
        guard case .failed(HTTPClientError.parse(.truncated), false) = read.end else {
            Issue.record("\(read.end)")
            return
        }
    }

    @Test func endOfStreamInAContentLengthBodyIsTruncated() throws {
        var machine = try Self.machine(reused: true)
        let connection = ScriptedConnection([Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), .end])
        _ = connection.run(&machine, into: .none)
        let read = Self.readBody(&machine, from: connection)
        guard case .failed(HTTPClientError.parse(.truncated), false) = read.end else {
            Issue.record("bytes arrived, so not retryable even on a reused connection: \(read.end)")
            return
        }
    }

    @Test func theHeadCarriesTheFramingLength() throws {
        var machine = try Self.machine()
        _ = ScriptedConnection([Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n")]).run(&machine, into: .none)
        #expect(machine.head?.contentLength == 42)
        var chunked = try Self.machine()
        _ = ScriptedConnection([Self.bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n")])
            .run(&chunked, into: .none)
        #expect(chunked.head?.contentLength == nil, "Transfer-Encoding wins: the length frames nothing")
    }

    // MARK: - Direct body reads

    @Test func aContentLengthBodyIsReadStraightIntoTheCallersBuffer() throws {
        var machine = try Self.machine()
        let body = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n".utf8)
        // The first read carries the head and 100 body bytes; the rest arrives later.
        let connection = ScriptedConnection([.bytes(head + body[0..<100]), .bytes(Array(body[100...]))])
        _ = connection.run(&machine, into: .none)
        let read = Self.readBody(&machine, from: connection, readSize: 4096)
        #expect(read.body == body)
        #expect(read.reuse == true)
        // 100 bytes came with the head (copied once); the other 9,900 went straight in, each
        // read no larger than the caller's buffer nor what is left of the body.
        #expect(connection.directReads == [4096, 4096, 1708], "\(connection.directReads)")
    }

    @Test func aChunkReadKeepsTheBytesInTheMachinesBufferAndIsSizedToWhatIsLeft() throws {
        var machine = try Self.machine(bufferSize: 8 << 10)
        let connection = ScriptedConnection([
            Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n"),
            .bytes(Array(repeating: 1, count: 20_000)),
        ])
        _ = connection.run(&machine, into: .none)
        #expect(machine.chunkCapacity(limit: 256 << 10) == 20_000, "a Content-Length body asks for what is left")
        #expect(machine.chunkCapacity(limit: 1000) == 1000)
        var total = 0
        var chunks: [Int] = []
        while case .deliver(let count, _) = connection.run(&machine, into: .machineBuffer) {
            let chunk = machine.takePendingChunk() ?? []
            #expect(chunk.count == count)
            chunks.append(count)
            total += count
        }
        #expect(total == 20_000)
        #expect(chunks == [8192, 8192, 3616], "each chunk at most the connection's buffer")
    }

    @Test func drainingKeepsAShortBodysConnectionAndClosesALongOne() throws {
        var short = try Self.machine()
        let connection = ScriptedConnection([Self.bytes("HTTP/1.1 302 Found\r\nLocation: /y\r\nContent-Length: 5\r\n\r\nmoved")])
        _ = connection.run(&short, into: .none)
        guard case .finished(reuse: true) = connection.run(&short, into: .none) else {
            Issue.record("a short redirect body is read and dropped, and the connection kept")
            return
        }
        var long = try Self.machine()
        let big = ScriptedConnection([
            Self.bytes("HTTP/1.1 302 Found\r\nLocation: /y\r\nContent-Length: 1000000\r\n\r\n"),
            .bytes(Array(repeating: 0, count: 1_000_000)),
        ])
        _ = big.run(&long, into: .none)
        guard case .finished(reuse: false) = big.run(&long, into: .none) else {
            Issue.record("a long body is not worth reading to keep the connection")
            return
        }
        #expect(big.incoming.count == 1, "it stopped reading after the drain budget")
    }
}
