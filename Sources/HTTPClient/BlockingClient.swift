import NetTLS
import NetCore

/// The blocking HTTP/1.1 engine: the same requests, options, results and errors as `Client`,
/// on plain threads. Sockets are waited on with `Poll` (a pending socket error wakes the wait),
/// so every timeout holds without a loop. `Client` runs it on a worker pool for
/// `engine: .workers`; a worker thread may also use it directly.
///
/// Thread rule: any thread except a loop's (it blocks the caller). One client may be shared by
/// many threads; a response belongs to the thread reading it.
public final class BlockingClient: @unchecked Sendable {  // immutable, or guarded: pool and cache lock
    public let configuration: HTTPClientConfiguration
    let pool: ConnectionPool<BlockingConnection>
    let tlsContexts: TLSContextCache

    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.configuration = configuration
        pool = ConnectionPool(
            maxPerOrigin: configuration.maxConnectionsPerHost, maxIdle: configuration.idleConnectionLimit,
            expiry: configuration.idleConnectionExpiry)
        tlsContexts = TLSContextCache(configuration.tls)
    }

    /// Sends `request`, follows redirects, and returns once the final head has arrived.
    /// - Parameter cancellation: lets another thread stop the request (and its body) at once.
    /// - Throws: `HTTPClientError`, exactly as `Client.execute`; `CancellationError` once cancelled.
    public func execute(_ request: HTTPRequest, cancellation: BlockingCancellation? = nil) throws -> BlockingResponse {
        do {
            return try execute(request, clock: RequestClock(configuration), cancellation: cancellation)
        } catch {
            cancellation?.detach()
            if cancellation?.isCancelled == true { throw CancellationError() }
            throw error
        }
    }

    private func execute(_ request: HTTPRequest, clock: RequestClock, cancellation: BlockingCancellation?) throws -> BlockingResponse {
        var follower = RedirectFollower(firstURL: request.url, limit: configuration.maxRedirects,
                                        allowsInsecureRedirects: configuration.allowInsecureRedirects)
        var current = request
        while true {
            let exchange = try open(current, clock: clock, cancellation: cancellation)
            guard let head = exchange.head else { throw HTTPClientError.parse(.truncated("no response")) }  // open() read it
            if let next = try follower.nextRequest(after: head, for: current) {
                exchange.drain()
                current = next
                continue
            }
            let range: ContentRange?
            do {
                range = try ResponseChecks.contentRange(of: head, for: current)
            } catch {
                exchange.drain()
                throw error
            }
            return BlockingResponse(head: head, url: current.url, redirects: follower.chain, contentRange: range,
                                    rangeRequested: current.range != nil, exchange: exchange,
                                    chunkSize: configuration.readBufferSize, cancellation: cancellation)
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

    private func open(_ request: HTTPRequest, clock: RequestClock, cancellation: BlockingCancellation?) throws -> BlockingExchange {
        let head = try RequestWriter.head(for: request, userAgent: configuration.userAgent)
        let key = PoolKey(request.url, loop: nil)
        guard pool.acquirePermitBlocking(for: key, timeout: clock.deadline.map { max(.zero, $0 - .now) }) else {
            throw HTTPClientError.timedOut(.total, clock.total ?? .zero)
        }
        var retried = false
        while true {
            let connection: BlockingConnection
            let reused: Bool
            if let idle = pool.takeIdle(for: key) {
                (connection, reused) = (idle, true)
            } else {
                do {
                    connection = try connect(to: request.url, clock: clock)
                } catch {
                    pool.releasePermit(for: key)
                    throw error
                }
                pool.noteOpened()
                reused = false
            }
            let exchange = BlockingExchange(connection: connection, reused: reused, key: key, pool: pool,
                                            request: request, configuration: configuration, clock: clock)
            exchange.cancellation = cancellation
            do {
                try cancellation?.attach(connection.stream.fileDescriptor)
                try exchange.send(request, head: head)
                try exchange.readHead()
                return exchange
            } catch {
                if reused && !retried && !exchange.receivedAnything && Client.isIdempotent(request.method)
                    && Client.isStaleConnectionError(error) {
                    exchange.fail(keepingPermit: true)
                    retried = true
                    continue
                }
                exchange.fail()
                throw error
            }
        }
    }

    private func connect(to url: HTTPURL, clock: RequestClock) throws -> BlockingConnection {
        // A bad CA file is the user's to fix: say so before touching the network.
        let context = url.scheme == "https" ? try tlsContexts.get() : nil
        let wait = try clock.next(.connect)
        do {
            let socket: BlockingSocket
            if url.hostIsIPLiteral, let address = try? SocketAddress(ip: url.host, port: url.port) {
                socket = try BlockingSocket.connect(to: address, timeout: wait.limit)
            } else {
                socket = try BlockingSocket.connect(host: url.host, port: url.port, timeout: wait.limit)
            }
            let size = configuration.connectionBufferSize
            guard let context else { return BlockingConnection(stream: socket, bufferSize: size) }
            let stream = try BlockingTLSStream.connect(over: socket, context: context, serverName: url.host, timeout: wait.limit)
            return BlockingConnection(stream: stream, bufferSize: size)
        } catch {
            throw clock.wrap(error, wait)
        }
    }
}

/// A response from `BlockingClient`: the head is here, the body is read on demand.
/// Reading it to the end returns the connection to the pool; dropping it early closes it.
public final class BlockingResponse: @unchecked Sendable {  // one thread at a time
    public let head: HTTPResponseHead
    public let url: HTTPURL
    public let redirects: [HTTPURL]
    public let contentRange: ContentRange?
    public let rangeRequested: Bool
    private let exchange: BlockingExchange
    private let chunkSize: Int
    private let cancellation: BlockingCancellation?
    private var ended = false
    public private(set) var bytesReceived: UInt64 = 0

    init(head: HTTPResponseHead, url: HTTPURL, redirects: [HTTPURL], contentRange: ContentRange?, rangeRequested: Bool,
         exchange: BlockingExchange, chunkSize: Int, cancellation: BlockingCancellation?) {
        self.head = head
        self.url = url
        self.redirects = redirects
        self.contentRange = contentRange
        self.rangeRequested = rangeRequested
        self.exchange = exchange
        self.chunkSize = chunkSize
        self.cancellation = cancellation
    }

    deinit { if !ended { exchange.fail() } }

    public var status: Int { head.status }
    public var headers: HTTPHeaders { head.headers }
    /// A range was asked for and the whole resource came back (200): start over, never append.
    public var rangeIgnored: Bool { rangeRequested && contentRange == nil && head.status == 200 }

    /// The next body bytes into `buffer`. - Returns: bytes read, 0 at the end.
    /// - Throws: `HTTPClientError`, as `HTTPBody.read(into:)`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !ended else { return 0 }
        do {
            let n = try exchange.read(into: buffer)
            if n == 0 { ended = true }
            bytesReceived += UInt64(n)
            return n
        } catch {
            ended = true
            throw error
        }
    }

    /// The next chunk of the body (up to `readBufferSize` bytes); nil at the end.
    public func nextChunk() throws -> [UInt8]? {
        guard !ended else { return nil }
        do {
            guard let chunk = try exchange.nextChunk(maxBytes: chunkSize) else {
                ended = true
                return nil
            }
            bytesReceived += UInt64(chunk.count)
            return chunk
        } catch {
            ended = true
            throw error
        }
    }

    /// The whole body. - Throws: `HTTPClientError.bodyTooLarge` beyond `limit`.
    public func collect(upTo limit: Int = 16 << 20) throws -> [UInt8] {
        var bytes: [UInt8] = []
        if let expected = exchange.expectedLength, expected <= limit { bytes.reserveCapacity(expected) }
        while let chunk = try nextChunk() {
            guard bytes.count + chunk.count <= limit else {
                discard()
                throw HTTPClientError.bodyTooLarge(limit: limit)
            }
            bytes += chunk
        }
        return bytes
    }

    /// Stops reading; the connection is closed.
    public func discard() {
        guard !ended else { return }
        ended = true
        exchange.fail()
    }
}
