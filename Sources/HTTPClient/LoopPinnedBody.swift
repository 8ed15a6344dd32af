import NetCore

/// The body of a loop-engine response whose caller is not a tasklet, read in the caller's own
/// task. A read takes first what has arrived, without parking, right where the caller is (the
/// exchange is this reader's alone; see `AsyncExchangeDriver.readWithoutWaiting`). Only a read
/// that must wait moves the task onto the loop's thread (`withTaskExecutorPreference`), parks
/// there on the socket, and takes what else has arrived before it comes back. No carrier
/// tasklet, no channel, no copy beyond the in-tasklet path's, nothing read ahead of the caller
/// beyond the connection's own buffer; a body that had all arrived costs no hop at all.
final class LoopPinnedBodySource: BodySource, @unchecked Sendable {
    // @unchecked: `body` is used by one task at a time (the reader's, on its thread or on the
    // loop's); `abandon` and deinit hand it to the loop's thread.
    private let body: HTTPBody
    private let loop: Loop
    private let counters: HopCounters
    let expectedLength: Int?

    init(body: HTTPBody, loop: Loop, expectedLength: Int?, counters: HopCounters) {
        self.body = body
        self.loop = loop
        self.counters = counters
        self.expectedLength = expectedLength
        noteHeld()
    }

    deinit {
        // The loop's body closes its connection when it goes unread: on the loop's thread.
        let body = body
        loop.execute { _ = body }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        if let count = try body.readWithoutWaiting(into: buffer) { return count }
        return try await readOnLoop(into: CallerBuffer(bytes: buffer))
    }

    func nextChunk() async throws -> [UInt8]? {
        if let ready = try body.nextChunkWithoutWaiting() { return ready }
        return try await nextChunkOnLoop()
    }

    // `@concurrent`, both: from an actor, a task executor preference alone would leave the read
    // on the actor's executor, parking on the loop's socket off the loop's thread.

    /// A read that may park, on the loop's thread, then what else has arrived.
    @concurrent private func readOnLoop(into caller: CallerBuffer) async throws -> Int {
        let buffer = caller.bytes
        return try await withTaskExecutorPreference(loop.preferredTaskExecutor) { [self] in
            assert(loop.isCurrent, "a hop's read must park on the loop's thread")
            var count = try await body.read(into: buffer)
            // What else has arrived, while here: the caller's next read may then need no hop.
            while count > 0, count < buffer.count,
                let more = try body.readWithoutWaiting(into: UnsafeMutableRawBufferPointer(rebasing: buffer[count...])), more > 0
            {
                count += more
            }
            noteHeld()
            return count
        }
    }

    /// A chunk read that may park, on the loop's thread.
    @concurrent private func nextChunkOnLoop() async throws -> [UInt8]? {
        try await withTaskExecutorPreference(loop.preferredTaskExecutor) { [self] in
            assert(loop.isCurrent, "a hop's read must park on the loop's thread")
            defer { noteHeld() }
            return try await body.nextChunk()
        }
    }

    func abandon() {
        let body = body
        loop.execute { body.discard() }
    }

    /// Keeps the most body bytes the connection ever held for this reader (backpressure, for tests).
    private func noteHeld() {
        counters.maxBytesAhead.max(body.loopDriver?.bytesHeld ?? 0, ordering: .relaxed)
    }
}

/// The caller's buffer, lent to its own task's read on the loop's thread: the caller is
/// suspended in that read, so the memory is used by one thread at a time and stays valid.
private struct CallerBuffer: @unchecked Sendable {  // one thread at a time, see above
    let bytes: UnsafeMutableRawBufferPointer
}
