import NetTLS
import NetCore
import Workers

/// The HTTP/1.1 client (HTTPS too) for tasklets.
///
/// Its own engine runs on the calling loop: the tasklet parks on non-blocking sockets while
/// others run. `engine: .workers` routes a request through `BlockingClient` on a worker pool
/// instead (through `callAsync`; the body comes back over a channel), with the same options,
/// results and errors. Keep-alive connections are pooled per origin (and per loop), with a
/// cap and idle expiry; redirects are followed; ranges are validated.
///
/// ```swift
/// let client = Client()
/// loop.spawn {
///     let response = try await client.get("http://127.0.0.1:8080/file")
///     for try await chunk in response.body { consume(chunk) }
/// }
/// ```
///
/// Thread rule: call from tasklets. A response's body is read on the loop that made the request.
public final class Client: @unchecked Sendable {  // immutable, or guarded: pools and caches lock
    public let configuration: HTTPClientConfiguration
    let pool: ConnectionPool<LoopConnection>
    let tlsContexts: TLSContextCache
    private let workersOverride: WorkerPool?
    /// The blocking engine that `engine: .workers` requests use.
    public let blockingClient: BlockingClient

    /// - Parameters:
    ///   - configuration: timeouts, redirects, pool, TLS, limits, default engine.
    ///   - workers: the pool that `.workers` requests run on; by default a shared one made on first use.
    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration(), workers: WorkerPool? = nil) {
        self.configuration = configuration
        pool = ConnectionPool(
            maxPerOrigin: configuration.maxConnectionsPerHost, maxIdle: configuration.idleConnectionLimit,
            expiry: configuration.idleConnectionExpiry)
        tlsContexts = TLSContextCache(configuration.tls)
        workersOverride = workers
        blockingClient = BlockingClient(configuration: configuration)
    }

    /// Sends `request` and returns the final response once its head has arrived (after any
    /// redirects); read its `body` next.
    /// - Parameter engine: overrides `configuration.engine` for this request.
    /// - Throws: `HTTPClientError` (the same cases on both engines), `CancellationError`,
    ///   `LoopError.notOnLoopThread` when not called from a tasklet.
    public func execute(_ request: HTTPRequest, engine: HTTPEngine? = nil) async throws -> HTTPResponse {
        switch engine ?? configuration.engine {
        case .loop: return try await executeOnLoop(request)
        case .workers: return try await executeOnWorkers(request, pool: workersOverride ?? Client.sharedWorkers)
        }
    }

    /// GET `url`. - Throws: as `execute`.
    public func get(_ url: String, headers: [(String, String)] = [], engine: HTTPEngine? = nil) async throws -> HTTPResponse {
        try await execute(HTTPRequest(url, headers: headers), engine: engine)
    }

    /// HEAD `url` (the response has no body). - Throws: as `execute`.
    public func head(_ url: String, headers: [(String, String)] = [], engine: HTTPEngine? = nil) async throws -> HTTPResponse {
        try await execute(HTTPRequest(url, method: "HEAD", headers: headers), engine: engine)
    }

    /// Closes the idle pooled connections of both engines. Call on the loop that used them.
    public func closeIdleConnections() {
        pool.closeIdle()
        blockingClient.closeIdleConnections()
    }

    /// Connections the loop engine opened, and how many are idle in its pool now.
    public var stats: (connectionsOpened: Int, idleConnections: Int) { (pool.connectionsOpened, pool.idleCount) }

    /// The pool `.workers` requests use unless one is given: 8 threads, made on first use.
    static let sharedWorkers: WorkerPool = {
        // Constant, small settings: it starts unless the process is out of threads.
        try! WorkerPool(threads: 8, maxQueued: 256, stackSize: 512 << 10, name: "http-workers")
    }()

    // MARK: - The loop engine

    private func executeOnLoop(_ request: HTTPRequest) async throws -> HTTPResponse {
        let clock = RequestClock(configuration)
        var follower = RedirectFollower(firstURL: request.url, limit: configuration.maxRedirects,
                                        allowsInsecureRedirects: configuration.allowInsecureRedirects)
        var current = request
        while true {
            let exchange = try await open(current, clock: clock)
            guard let head = exchange.head else { throw HTTPClientError.parse(.truncated("no response")) }  // open() read it
            if let next = try follower.nextRequest(after: head, for: current) {
                await exchange.drain()
                current = next
                continue
            }
            let range: ContentRange?
            do {
                range = try ResponseChecks.contentRange(of: head, for: current)
            } catch {
                await exchange.drain()
                throw error
            }
            return HTTPResponse(head: head, url: current.url, redirects: follower.chain, contentRange: range,
                                body: HTTPBody(source: exchange), engine: .loop, rangeRequested: current.range != nil)
        }
    }

    /// Takes a pool permit, then a connection (idle or new), sends the request and reads the
    /// head. A reused connection that the server closed before answering is replaced once.
    private func open(_ request: HTTPRequest, clock: RequestClock) async throws -> LoopExchange {
        let head = try RequestWriter.head(for: request, userAgent: configuration.userAgent)
        let key = PoolKey(request.url, loop: Loop.current)
        // Waiting for a free connection counts against the total timeout only.
        guard try await pool.acquirePermit(for: key, timeout: clock.deadline.map { max(.zero, $0 - .now) }) else {
            throw HTTPClientError.timedOut(.total, clock.total ?? .zero)
        }
        var retried = false
        while true {
            let connection: LoopConnection
            let reused: Bool
            if let idle = pool.takeIdle(for: key) {
                (connection, reused) = (idle, true)
            } else {
                do {
                    connection = try await connect(to: request.url, clock: clock)
                } catch {
                    pool.releasePermit(for: key)
                    throw error
                }
                pool.noteOpened()
                reused = false
            }
            let exchange = LoopExchange(connection: connection, reused: reused, key: key, pool: pool,
                                        request: request, configuration: configuration, clock: clock)
            do {
                try await exchange.send(request, head: head)
                try await exchange.readHead()
                return exchange
            } catch {
                let retry = reused && !retried && !exchange.receivedAnything && Self.isIdempotent(request.method)
                    && Self.isStaleConnectionError(error)
                if retry {
                    exchange.fail(keepingPermit: true)
                    retried = true
                    continue
                }
                exchange.fail()
                throw error
            }
        }
    }

    /// Connects (TCP, then TLS for https) within the connect timeout.
    private func connect(to url: HTTPURL, clock: RequestClock) async throws -> LoopConnection {
        // A bad CA file is the user's to fix: say so before touching the network.
        let context = url.scheme == "https" ? try tlsContexts.get() : nil
        let wait = try clock.next(.connect)
        do {
            let socket: StreamSocket
            if url.hostIsIPLiteral, let address = try? SocketAddress(ip: url.host, port: url.port) {
                socket = try await StreamSocket.connect(to: address, timeout: wait.limit)
            } else {
                socket = try await StreamSocket.connect(host: url.host, port: url.port, timeout: wait.limit)
            }
            let size = configuration.connectionBufferSize
            guard let context else { return LoopConnection(stream: socket, bufferSize: size) }
            let stream = try await TLSStream.connect(over: socket, context: context, serverName: url.host, timeout: wait.limit)
            return LoopConnection(stream: stream, bufferSize: size)
        } catch {
            throw clock.wrap(error, wait)
        }
    }

    static func isIdempotent(_ method: String) -> Bool {
        ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"].contains(method)
    }

    /// The ways a keep-alive connection the server already closed shows up on first use.
    static func isStaleConnectionError(_ error: any Error) -> Bool {
        switch error {
        case HTTPClientError.network(let error): return error.kind == .connectionReset || error.kind == .brokenPipe
        case HTTPClientError.parse(.truncated): return true
        default: return false
        }
    }
}
