/// A pooled connection of the blocking engine.
typealias BlockingConnection = HTTPConnection<any BlockingByteStream>

extension HTTPConnection where Stream == any BlockingByteStream {
    convenience init(blocking stream: any BlockingByteStream, bufferSize: Int) {
        self.init(stream: stream, bufferSize: bufferSize, isReusable: { stream.isReusable }, close: { stream.close() })
    }
}

/// Drives an `HTTPExchangeMachine` on a worker thread: each read or write blocks the thread
/// (Poll-based waits, so every timeout holds without a loop). No HTTP logic lives here.
///
/// Thread rule: one thread at a time, never a loop's.
final class BlockingExchangeDriver {
    private var machine: HTTPExchangeMachine
    let lease: ConnectionLease<BlockingConnection>

    init(_ lease: ConnectionLease<BlockingConnection>, machine: HTTPExchangeMachine) {
        self.lease = lease
        self.machine = machine
    }

    var head: HTTPResponseHead? { machine.head }
    var expectedLength: Int? { machine.head?.contentLength }

    /// Sends the request and reads the head. - Returns: `.headReady` or `.failed`.
    func open() -> HTTPExchangeMachine.Action { run(into: .none) }

    /// The next body bytes into `buffer`; 0 at the end. Errors close the connection.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        switch run(into: .caller(buffer)) {
        case .deliver(let count, _): return count
        case .failed(let error, _):
            lease.close()
            throw error
        default: return 0
        }
    }

    /// The next chunk, read straight into the array that is returned (no copy but the
    /// kernel's), at most `limit` bytes and no more than a Content-Length body has left.
    func nextChunk(limit: Int) throws -> [UInt8]? {
        if let chunk = machine.takePendingChunk() { return chunk }
        let chunk = try [UInt8](unsafeUninitializedCapacity: machine.chunkCapacity(limit: limit)) { storage, count in
            count = try read(into: UnsafeMutableRawBufferPointer(storage))
        }
        return chunk.isEmpty ? nil : chunk
    }

    /// Reads and drops a small body so the connection can be reused; closes it otherwise.
    func drain() {
        if case .failed = run(into: .none) { lease.close() }
    }

    /// One step of the machine, doing its I/O until it ends.
    private func run(into destination: HTTPExchangeMachine.Destination) -> HTTPExchangeMachine.Action {
        let stream = lease.connection.stream
        var input = HTTPExchangeMachine.Input.start
        while true {
            let action = machine.next(input, into: destination)
            do {
                switch action {
                case .write(let bytes, let wait):
                    try bytes.withUnsafeBytes { try stream.write($0, timeout: wait.limit) }
                    input = .wrote
                case .readIntoMachine(let window, let wait), .readBody(let window, let wait):
                    let count = try stream.read(into: window, timeout: wait.limit)
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
