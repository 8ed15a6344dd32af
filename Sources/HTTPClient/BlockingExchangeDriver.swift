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
    let lease: ConnectionLease<BlockingConnection>
    private(set) var machine: HTTPExchangeMachine

    init(_ lease: ConnectionLease<BlockingConnection>, machine: HTTPExchangeMachine) {
        self.lease = lease
        self.machine = machine
    }

    /// Sends the request and reads the head. - Returns: `.headReady` or `.failed`.
    func open() -> HTTPExchangeMachine.Action { run(into: .none) }

    /// The next body bytes into `buffer`; 0 at the end. Errors close the connection.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try lease.bodyCount(run(into: .caller(buffer)))
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

    /// One step of the machine: its I/O, blocking, until an action that ends the step.
    private func run(into destination: HTTPExchangeMachine.Destination) -> HTTPExchangeMachine.Action {
        var input = HTTPExchangeMachine.Input.start
        while true {
            let action = machine.next(input, into: destination)
            guard let io = action.io else { return lease.settle(action) }
            input = perform(io)
        }
    }

    private func perform(_ io: HTTPExchangeMachine.IO) -> HTTPExchangeMachine.Input {
        let stream = lease.connection.stream
        do {
            switch io {
            case .write(let bytes, let timeout):
                try bytes.withUnsafeBytes { try stream.write($0, timeout: timeout) }
                lease.bytesOut += bytes.count
            case .read(let buffer, let timeout):
                let count = try stream.read(into: buffer, timeout: timeout)
                lease.bytesIn += count
                return .read(count, endedWithoutCloseNotify: stream.endedWithoutCloseNotify)
            }
        } catch {
            return .ioFailed(error)
        }
        return .wrote
    }
}
