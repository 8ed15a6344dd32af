import NetCore

/// A pooled connection of the loop engine.
typealias LoopConnection = HTTPConnection<any AsyncByteStream>

extension HTTPConnection where Stream == any AsyncByteStream {
    convenience init(parking stream: any AsyncByteStream, bufferSize: Int) {
        self.init(stream: stream, bufferSize: bufferSize, isReusable: { stream.isReusable }, close: { stream.close() })
    }
}

/// Drives an `HTTPExchangeMachine` on the loop: each read or write parks the tasklet on the
/// `AsyncByteStream` while others run. No read-ahead: the reader's pace is the socket's pace.
/// No HTTP logic lives here; it moves bytes where the machine says.
///
/// Thread rule: the tasklets of the loop that made the request.
final class AsyncExchangeDriver: BodySource {
    private(set) var machine: HTTPExchangeMachine
    let lease: ConnectionLease<LoopConnection>
    /// A streamed request body's chunks (nil: none).
    private let bodyReader: (any RequestBodyReader)?

    init(_ lease: ConnectionLease<LoopConnection>, machine: HTTPExchangeMachine, bodyReader: (any RequestBodyReader)? = nil) {
        self.lease = lease
        self.machine = machine
        self.bodyReader = bodyReader
    }

    var expectedLength: Int? { machine.head?.contentLength }

    /// Sends the request and reads the head. - Returns: `.headReady` or `.failed`.
    func open() async -> HTTPExchangeMachine.Action { await run(into: .none) }

    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        try lease.bodyCount(await run(into: .caller(buffer)))
    }

    /// The next chunk, read into the connection's buffer and copied into an array of its exact
    /// size: an array's storage cannot be borrowed across the suspension point of a read.
    func nextChunk() async throws -> [UInt8]? {
        if let chunk = machine.takePendingChunk() { return chunk }
        guard try lease.bodyCount(await run(into: .machineBuffer)) > 0 else { return nil }
        return machine.takePendingChunk()
    }

    /// `read(into:)` that never parks: what the machine holds and what the socket already has.
    /// - Returns: the byte count (0 at the end of the body), or nil when the next bytes have not
    ///   arrived yet (or the stream is TLS, whose buffered records only a parking read drains).
    /// - Throws: as `read(into:)`, after closing the connection.
    ///
    /// Thread: the loop's, or the one task that reads a body fetched for a caller that is not a
    /// tasklet (`LoopPinnedBodySource`): a step that never parks touches no watcher or timer of
    /// the loop, only this exchange's machine and socket (which nothing else uses meanwhile) and
    /// the pool (locked). Cost: one non-blocking `recv` at most per machine step.
    func readWithoutWaiting(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard buffer.count > 0, let action = try stepWithoutWaiting(into: .caller(buffer)) else { return nil }
        return try lease.bodyCount(action)
    }

    /// `nextChunk()` that never parks, as `readWithoutWaiting`. - Returns: `.some(nil)` at the
    /// end of the body, nil when the next bytes have not arrived yet.
    func nextChunkWithoutWaiting() throws -> [UInt8]?? {
        if let chunk = machine.takePendingChunk() { return chunk }
        guard let action = try stepWithoutWaiting(into: .machineBuffer) else { return nil }
        guard try lease.bodyCount(action) > 0 else { return .some(nil) }
        return machine.takePendingChunk()
    }

    /// The body bytes taken off the connection and not yet handed out, at most: what the
    /// machine holds (for tests of a hop's backpressure).
    var bytesHeld: Int { machine.pendingBodyCount }

    /// One step of the machine with reads that never park. - Returns: the step's last action
    /// (settled), or nil when a read would have to wait: the machine then asks for the same read
    /// on the next step, which starts again from `.start` (a body step has no other I/O).
    private func stepWithoutWaiting(into destination: HTTPExchangeMachine.Destination) throws -> HTTPExchangeMachine.Action? {
        guard let socket = lease.connection.stream as? StreamSocket else { return nil }
        var input = HTTPExchangeMachine.Input.start
        while true {
            let action = machine.next(input, into: destination)
            guard let io = action.io else { return lease.settle(action) }
            guard case .read(let part, _) = io else { return nil }
            do {
                guard let count = try socket.receiveWithoutWaiting(into: part) else { return nil }
                lease.bytesIn += count
                input = .read(count, endedWithoutCloseNotify: false)
            } catch {
                input = .ioFailed(error)
            }
        }
    }

    /// Reads and drops a small body (a redirect's) so the connection can be reused; closes it
    /// when the body is large or slow.
    func drain() async {
        if case .failed = await run(into: .none) { lease.close() }
    }

    func abandon() { lease.close() }

    /// One step of the machine: its I/O, parking, until an action that ends the step.
    private func run(into destination: HTTPExchangeMachine.Destination) async -> HTTPExchangeMachine.Action {
        var input = HTTPExchangeMachine.Input.start
        while true {
            let action = machine.next(input, into: destination)
            guard let io = action.io else { return lease.settle(action) }
            input = await perform(io)
        }
    }

    private func perform(_ io: HTTPExchangeMachine.IO) async -> HTTPExchangeMachine.Input {
        let stream = lease.connection.stream
        do {
            switch io {
            case .write(let bytes, let timeout):
                try await bytes.withUnsafeBytesCopy { try await stream.write($0, timeout: timeout) }
                lease.bytesOut += bytes.count
                return .wrote
            case .read(let buffer, let timeout):
                let count = try await stream.read(into: buffer, timeout: timeout)
                lease.bytesIn += count
                return .read(count, endedWithoutCloseNotify: stream.endedWithoutCloseNotify)
            case .nextBodyChunk:
                return .bodyChunk(try await bodyReader?.next())
            }
        } catch {
            return .ioFailed(error)
        }
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
