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
    private var machine: HTTPExchangeMachine
    let lease: ConnectionLease<LoopConnection>

    init(_ lease: ConnectionLease<LoopConnection>, machine: HTTPExchangeMachine) {
        self.lease = lease
        self.machine = machine
    }

    var head: HTTPResponseHead? { machine.head }
    var expectedLength: Int? { machine.head?.contentLength }

    /// Sends the request and reads the head. - Returns: `.headReady` or `.failed`.
    func open() async -> HTTPExchangeMachine.Action { await run(into: .none) }

    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        try delivered(await run(into: .caller(buffer)))
    }

    /// The next chunk, read into the connection's buffer and copied into an array of its exact
    /// size: an array's storage cannot be borrowed across the suspension point of a read.
    func nextChunk() async throws -> [UInt8]? {
        if let chunk = machine.takePendingChunk() { return chunk }
        guard try delivered(await run(into: .machineBuffer)) > 0 else { return nil }
        return machine.takePendingChunk()
    }

    /// Reads and drops a small body (a redirect's) so the connection can be reused; closes it
    /// when the body is large or slow.
    func drain() async {
        if case .failed = await run(into: .none) { lease.close() }
    }

    func abandon() { lease.close() }

    /// The byte count of a step that delivers; 0 at the end. - Throws: the step's failure
    /// (the connection is closed then).
    private func delivered(_ action: HTTPExchangeMachine.Action) throws -> Int {
        switch action {
        case .deliver(let count, _): return count
        case .failed(let error, _):
            lease.close()
            throw error
        default: return 0
        }
    }

    /// One step of the machine, doing its I/O until it ends.
    private func run(into destination: HTTPExchangeMachine.Destination) async -> HTTPExchangeMachine.Action {
        let stream = lease.connection.stream
        var input = HTTPExchangeMachine.Input.start
        while true {
            let action = machine.next(input, into: destination)
            do {
                switch action {
                case .write(let bytes, let wait):
                    try await bytes.withUnsafeBytesCopy { try await stream.write($0, timeout: wait.limit) }
                    input = .wrote
                case .readIntoMachine(let window, let wait), .readBody(let window, let wait):
                    let count = try await stream.read(into: window, timeout: wait.limit)
                    input = count > 0 ? .received(count) : .endOfStream(incompleteClose: stream.endedWithoutCloseNotify)
                default:
                    return lease.settle(action)
                }
            } catch {
                input = .ioFailed(error)
            }
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
