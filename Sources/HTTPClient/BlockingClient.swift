import NetCore
import NetTLS
import Workers

/// The blocking HTTP/1.1 engine: the same requests, options, results and errors as `Client`,
/// on plain threads. Sockets are waited on with `Poll` (a pending socket error wakes the wait),
/// so every timeout holds without a loop. `Client` runs it on a worker pool for
/// `engine: .workers`; a worker thread may also use it directly.
///
/// Thread rule: any thread except a loop's (it blocks the caller). One client may be shared by
/// many threads; a response belongs to the thread reading it.
public final class BlockingClient: @unchecked Sendable {  // immutable, or guarded: pool and cache lock
    /// The options this client was made with (fixed for its life).
    public let configuration: HTTPClientConfiguration
    let pool: ConnectionPool<BlockingConnection>
    let tlsContexts: TLSContextCache

    /// Made from `configuration.metrics` (or shared with the `Client` that owns this one).
    let metrics: ClientMetrics?

    /// A client with an empty connection pool and its own metrics (from `configuration.metrics`).
    /// Opens nothing and starts no thread: each request runs on its caller's thread.
    public convenience init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.init(configuration: configuration, metrics: configuration.metrics.map(ClientMetrics.init))
    }

    init(configuration: HTTPClientConfiguration, metrics: ClientMetrics?) {
        self.metrics = metrics
        self.configuration = configuration
        pool = ConnectionPool(
            maxPerOrigin: configuration.maxConnectionsPerHost, maxIdle: configuration.idleConnectionLimit,
            expiry: configuration.idleConnectionExpiry)
        tlsContexts = TLSContextCache(configuration.tls)
    }

    /// Sends `request`, follows redirects, and returns once the final head has arrived.
    /// - Parameters:
    ///   - request: what to send.
    ///   - cancellation: lets another thread stop the request (and its body) at once.
    /// - Throws: `HTTPClientError`, exactly as `Client.execute`; `CancellationError` once cancelled.
    public func execute(_ request: HTTPRequest, cancellation: BlockingCancellation? = nil) throws -> BlockingResponse {
        do {
            return try run(request, cancellation: cancellation)
        } catch {
            cancellation?.detach()
            if cancellation?.isCancelled == true { throw CancellationError() }
            throw error
        }
    }

    private func run(_ request: HTTPRequest, cancellation: BlockingCancellation?) throws -> BlockingResponse {
        var plan = RequestPlan(request, configuration: configuration, metrics: metrics)
        do { return try run(&plan, cancellation: cancellation) } catch {
            plan.noteFailed()
            throw error
        }
    }

    private func run(_ plan: inout RequestPlan, cancellation: BlockingCancellation?) throws -> BlockingResponse {
        while true {
            let exchange = try open(&plan, cancellation: cancellation)
            guard let head = exchange.machine.head else { throw HTTPClientError.parse(.truncated("no response")) }  // open() read it
            switch try plan.decide(
                after: head,
                timings: exchange.machine.timings(setup: exchange.lease.connection.setupTimings(reused: exchange.lease.wasReused)))
            {
            case .follow:
                exchange.drain()
            case .reject(let error):
                exchange.drain()
                throw error
            case .respond(let metadata):
                let decoding: BodyDecoding?
                do { decoding = try metadata.makeDecoding() } catch {
                    exchange.lease.close()
                    throw error
                }
                plan.noteFinal(exchange.lease)
                return BlockingResponse(metadata: metadata, exchange: exchange, decoding: decoding, chunkSize: configuration.readBufferSize)
            }
        }
    }

    /// GET `url`. - Throws: as `execute`.
    public func get(_ url: String, headers: [(String, String)] = []) throws -> BlockingResponse {
        try execute(HTTPRequest(url, headers: headers))
    }

    /// Closes the idle pooled connections.
    public func closeIdleConnections() { pool.closeIdle() }

    /// Connections opened, and idle in the pool now.
    public var stats: (connectionsOpened: Int, idleConnections: Int) { (pool.connectionsOpened, pool.idleCount) }

    /// As `Client`'s: a permit, a connection, the request and its head, a retry the plan allows.
    private func open(_ plan: inout RequestPlan, cancellation: BlockingCancellation?) throws -> BlockingExchangeDriver {
        let head = try plan.requestHead()
        let key = plan.poolKey(loop: nil)
        guard pool.acquirePermitBlocking(for: key, timeout: plan.clock.untilDeadline) else { throw plan.clock.totalTimedOut }
        while true {
            let lease: ConnectionLease<BlockingConnection>
            do { lease = try self.lease(key, for: plan.route, clock: plan.clock, cancellation: cancellation) } catch {
                plan.noteConnectFailed(error)
                throw error
            }
            plan.noteCheckedOut(lease)
            if let cancellation {
                // Detached before the connection goes back to the pool or is closed, so a late
                // cancel can never shut down a socket another request (or descriptor) now uses.
                lease.willRelease = { cancellation.detach() }
                do { try cancellation.attach(lease.connection.stream.fileDescriptor) } catch {
                    lease.close()
                    throw error
                }
            }
            let exchange = BlockingExchangeDriver(
                lease, machine: plan.machine(head: head, on: lease, limits: configuration.parserLimits), bodyReader: plan.bodyReader())
            guard case .failed(let error, let retryable) = exchange.open() else { return exchange }
            let again = plan.retries(after: retryable)
            lease.close(keepingPermit: again)
            if !again { throw error }
        }
    }

    private func lease(
        _ key: PoolKey, for route: ConnectRoute, clock: RequestClock, cancellation: BlockingCancellation?
    ) throws -> ConnectionLease<BlockingConnection> {
        guard let idle = pool.takeIdle(for: key) else {
            do {
                let connection = try connect(route, clock: clock, cancellation: cancellation)
                pool.noteOpened()
                return ConnectionLease(connection, reused: false, key: key, pool: pool)
            } catch {
                pool.releasePermit(for: key)
                throw error
            }
        }
        return ConnectionLease(idle, reused: true, key: key, pool: pool)
    }

    /// As `Client`'s: the steps of `ConnectSteps`, blocking, within the connect timeout; a host
    /// name is connected Happy Eyeballs style (`BlockingSocket.connect(host:...)`), cancellable.
    private func connect(_ route: ConnectRoute, clock: RequestClock, cancellation: BlockingCancellation?) throws -> BlockingConnection {
        // A bad CA file is the user's to fix: say so before touching the network.
        let context = route.origin.usesTLS || route.tlsToProxy ? try tlsContexts.get() : nil
        let wait = try clock.next(.connect)
        var steps = ConnectSteps(route, context: context, limit: wait.limit, happyEyeballs: configuration.happyEyeballs)
        do {
            let socket: BlockingSocket
            switch try steps.firstHop() {
            case .unixSocket(let address), .address(let address):
                socket = try BlockingSocket.connect(to: address, timeout: steps.timeLeft)
                steps.connected(resolvedAt: nil)
            case .name(let host, let port):
                let (connected, resolvedAt) = try BlockingSocket.connectTimed(
                    host: host, port: port, timeout: steps.timeLeft, resolver: configuration.resolver,
                    happyEyeballs: configuration.happyEyeballs, cancellation: cancellation)
                socket = connected
                steps.connected(resolvedAt: resolvedAt)
            }
            let connection = BlockingConnection(blocking: try layers(&steps, over: socket), bufferSize: configuration.connectionBufferSize)
            connection.setup = steps.timings
            return connection
        } catch {
            throw clock.wrap(error, wait)
        }
    }

    /// As `Client`'s: the steps after the first connection, blocking; the connection is closed
    /// when one fails.
    private func layers(_ steps: inout ConnectSteps, over socket: BlockingSocket) throws -> any BlockingByteStream {
        var stream: any BlockingByteStream = socket
        do {
            while let step = steps.next() {
                switch step {
                case .tls(let context, let serverName):
                    stream = try BlockingTLSStream.connect(over: stream, context: context, serverName: serverName, timeout: steps.timeLeft)
                case .lookUp(let host, let port):
                    // getaddrinfo has no timeout of its own; the lookup runs on this worker thread.
                    let lookUp = configuration.resolver?.lookUp ?? Resolver.lookUp(host:port:family:)
                    steps.lookedUp(try lookUp(host, port, configuration.happyEyeballs.lookupFamily))
                case .tunnel(let handshake):
                    try ProxyTunnel.open(handshake, over: stream, deadline: steps.deadline)
                }
            }
            return stream
        } catch {
            stream.close()
            throw error
        }
    }
}

/// A response from `BlockingClient`: what `ResponseMetadata` says (`response.status`,
/// `response.url`, `response.contentRange`, ... read through to it) is here; the body is read
/// on demand. Reading it to the end returns the connection to the pool; dropping it early closes it.
@dynamicMemberLookup
public final class BlockingResponse: @unchecked Sendable {  // one thread at a time
    /// The final head, its URL, redirects, range and timings.
    public let metadata: ResponseMetadata
    private let exchange: BlockingExchangeDriver
    /// Set for a coded body with decoding on: the body is decoded here, on this thread.
    private let decoding: BodyDecoding?
    private let chunkSize: Int
    private var progress = BodyProgress()
    /// Body bytes delivered so far.
    public var bytesReceived: UInt64 { progress.bytesReceived }

    init(metadata: ResponseMetadata, exchange: BlockingExchangeDriver, decoding: BodyDecoding?, chunkSize: Int) {
        self.metadata = metadata
        self.exchange = exchange
        self.decoding = decoding
        self.chunkSize = chunkSize
    }

    deinit { if !progress.ended { exchange.lease.close() } }

    /// Reads `metadata`'s properties through the response (`response.status`, `response.url`).
    public subscript<Value>(dynamicMember path: KeyPath<ResponseMetadata, Value>) -> Value { metadata[keyPath: path] }

    /// The next body bytes into `buffer`. - Returns: bytes read, 0 at the end.
    /// - Throws: `HTTPClientError`, as `HTTPBody.read(into:)`; after one the connection is closed.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !progress.ended else { return 0 }
        do { return progress.counted(try readBody(into: buffer)) } catch { throw progress.ending(error) }
    }

    /// The body's next bytes, through `decoding` when there is one.
    private func readBody(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let decoding else { return try exchange.read(into: buffer) }
        guard buffer.count > 0 else { return 0 }
        while true {
            let step: BodyDecoding.Step
            do { step = try decoding.step(into: buffer) } catch {
                exchange.lease.close()  // the rest is of no use, and the connection must not be reused
                throw error
            }
            switch step {
            case .produced(let count): return count
            case .ended: return 0
            case .needsInput(let space): decoding.received(try exchange.read(into: space))
            }
        }
    }

    /// The next chunk of the body (up to `readBufferSize` bytes); nil at the end. - Throws: as `read(into:)`.
    public func nextChunk() throws -> [UInt8]? {
        guard !progress.ended else { return nil }
        do {
            guard decoding != nil else { return progress.counted(try exchange.nextChunk(limit: chunkSize)) }
            var chunk = [UInt8](repeating: 0, count: chunkSize)
            let count = try chunk.withUnsafeMutableBytes { try readBody(into: $0) }
            chunk.removeSubrange(count...)
            return progress.counted(count == 0 ? nil : chunk)
        } catch { throw progress.ending(error) }
    }

    /// The whole body. - Throws: `HTTPClientError.bodyTooLarge` beyond `limit`; as `read(into:)`.
    public func collect(upTo limit: Int = 16 << 20) throws -> [UInt8] {
        var collected = BodyCollector(expectedLength: metadata.bodyLength, limit: limit)
        while let chunk = try nextChunk() { try collected.append(chunk, orElse: discard) }
        return collected.bytes
    }

    /// Stops reading; the connection is closed.
    public func discard() {
        if progress.end() { exchange.lease.close() }
    }
}
