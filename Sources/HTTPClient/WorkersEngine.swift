import NetCore
import Workers

/// What the worker that carries a request (`engine: .workers`) hands back to its caller over a
/// channel.
enum ExchangeMessage: Sendable {
    // indirect: the metadata is large, and every copy of the enum (each channel hand-off) would
    // otherwise copy it field by field; boxed, a copy is one retain.
    indirect case head(ResponseMetadata)
    case chunk([UInt8])
    case end
    case failure(any Error)
}

/// A body whose chunks arrive over a bounded channel from the worker that reads the socket, so
/// a slow reader parks that side (and TCP slows the server). Readable from any task, one reader
/// at a time.
final class ChannelBodySource: BodySource {
    private let channel: Channel<ExchangeMessage>
    /// Stops the carrying side: wakes a worker blocked in a read.
    private let stopCarrier: @Sendable () -> Void
    private var leftover: [UInt8] = []
    private var leftoverOffset = 0
    private var finished = false

    let expectedLength: Int?

    init(channel: Channel<ExchangeMessage>, expectedLength: Int?, stopCarrier: @escaping @Sendable () -> Void) {
        self.channel = channel
        self.stopCarrier = stopCarrier
        self.expectedLength = expectedLength
    }

    deinit {
        if !finished { stopCarrier() }
        channel.close()
    }

    func nextChunk() async throws -> [UInt8]? {
        if leftoverOffset < leftover.count {
            defer {
                leftover = []
                leftoverOffset = 0
            }
            return Array(leftover[leftoverOffset...])
        }
        guard !finished else { return nil }
        let message: ExchangeMessage
        do {
            message = try await channel.receive()
        } catch {
            abandon()  // this task was cancelled: the carrier must not go on reading for us
            throw error
        }
        switch message {
        case .chunk(let bytes):
            return bytes
        case .end:
            finished = true
            return nil
        case .failure(let error):
            finished = true
            throw error
        case .head:
            finished = true
            throw HTTPClientError.parse(.dataAfterEndOfMessage)  // a carrier sends one head, first
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        if leftoverOffset >= leftover.count {
            guard let chunk = try await nextChunk() else { return 0 }
            leftover = chunk
            leftoverOffset = 0
        }
        let n = min(buffer.count, leftover.count - leftoverOffset)
        leftover.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + leftoverOffset, byteCount: n)  // n > 0: both non-empty
        }
        leftoverOffset += n
        return n
    }

    /// The carrier's next send fails, and it is stopped, so it closes its connection.
    func abandon() {
        finished = true
        stopCarrier()
        channel.close()
    }
}

extension Client {
    /// Runs the request on `BlockingClient` in a worker job (through `callAsync`, from a helper
    /// tasklet so this one can return at the head) and streams the body back over a channel.
    ///
    /// - Parameter loop: where the helper tasklet runs: the caller's loop, or the client's home
    ///   loop for a caller that is not a tasklet (which then reads the worker's channel itself).
    func executeOnWorkers(_ request: HTTPRequest, pool: WorkerPool, loop: Loop) async throws -> HTTPResponse {
        // Four chunks in flight: enough to keep the worker reading while the tasklet consumes.
        let channel = Channel<ExchangeMessage>(capacity: 4)
        let cancellation = BlockingCancellation()
        let blocking = blockingClient
        let (request, bodyFeed) = Self.handingSequenceBody(of: request)
        if let bodyFeed {
            // This task reads the sequence; the worker receives its chunks (two at most ahead).
            try loop.trySpawn(name: "http-body-feed") { await bodyFeed.channel.feed(from: bodyFeed.source) }
        }
        // trySpawn: a refused helper would leave the receive below waiting for ever.
        try loop.trySpawn(name: "http-worker-call") {
            defer { bodyFeed?.channel.channel.close() }  // the worker is done with the body
            do {
                try await pool.callAsync("HTTP \(request.method) \(request.url)") { _ in
                    Self.transfer(request, with: blocking, to: channel, cancellation: cancellation)
                }
            } catch {
                try? await channel.send(.failure(error))  // the pool refused the job (shut down, full)
            }
        }
        let first: ExchangeMessage
        do {
            first = try await channel.receive()
        } catch {
            cancellation.cancel()  // cancelled while waiting: wake the worker if it is blocked
            channel.close()
            throw error
        }
        switch first {
        case .head(let metadata):
            // A coded body was decoded on the worker (`BlockingResponse`): its chunks come decoded.
            let body = ChannelBodySource(channel: channel, expectedLength: metadata.bodyLength) { cancellation.cancel() }
            return HTTPResponse(metadata: metadata, body: HTTPBody(source: body), engine: .workers)
        case .failure(let error):
            throw error
        case .chunk, .end:
            throw HTTPClientError.parse(.truncated("no response head from the worker"))
        }
    }

    /// A request whose streamed body is a sequence (read only on a task) goes to the worker
    /// with a channel reader in its place, and the sequence's reader to feed it; other requests
    /// go as they are (a file is read on the worker).
    private static func handingSequenceBody(
        of request: HTTPRequest
    ) -> (HTTPRequest, (channel: ChannelBodyReader, source: any RequestBodyReader)?) {
        guard let body = request.streamingBody else { return (request, nil) }
        let source = body.makeReader()
        if source.readsWithoutATask { return (request, nil) }
        let channel = ChannelBodyReader()
        var handed = request
        handed.streamingBody = HTTPRequestBody(length: body.length, source: .sequence({ channel }))
        return (handed, (channel, source))
    }

    /// The worker's side: one blocking request, its head and then its body chunks sent over
    /// the channel (blocking while it is full). A closed channel means nobody reads any more.
    private static func transfer(
        _ request: HTTPRequest, with client: BlockingClient, to channel: Channel<ExchangeMessage>,
        cancellation: BlockingCancellation
    ) {
        do {
            let response = try client.execute(request, cancellation: cancellation)
            try channel.sendBlocking(.head(response.metadata))
            do {
                while let chunk = try response.nextChunk() {
                    try channel.sendBlocking(.chunk(chunk))
                }
            } catch let error as ChannelError {
                response.discard()
                throw error
            }
            try channel.sendBlocking(.end)
        } catch is ChannelError {
            return  // the reader went away
        } catch  where cancellation.isCancelled {
            return  // the reader went away and woke us
        } catch {
            try? channel.sendBlocking(.failure(error))
        }
    }
}
