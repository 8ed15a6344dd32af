import NetCore
import NetTLS
import Workers

/// The HTTP/1.1 client (HTTPS too), callable from any Swift task.
///
/// From a tasklet its own engine runs in place on the calling loop: the tasklet parks on
/// non-blocking sockets while others run. From any other task (a plain `Task`, an actor, a
/// server framework's handler) the exchange runs on the client's home loop instead: the loop
/// `HTTPClientConfiguration.loop` names, or else one loop thread, "http-client", that the
/// client starts on its first such call (never at init: a client used only from tasklets starts
/// no thread) and lets end at `shutdown()` or when the client is freed. The caller's own task
/// moves onto that loop's thread for the exchange and back with the head (no thread blocks);
/// it reads the body where it is, and moves to the loop again only for a read that must wait
/// (nothing is read ahead of it beyond the connection's buffer, so a caller that stops reading
/// stops the transfer); cancelling the caller's task cancels the request. `Downloader.run`
/// runs its whole download in one tasklet of that loop instead. `http-load many URL --from
/// task` measures what the hop costs.
///
/// `engine: .workers` routes a request through `BlockingClient` on a worker pool instead
/// (through `callAsync`; the body comes back over a channel), with the same options, results
/// and errors. Keep-alive connections are pooled per origin (and per loop), with a
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
/// Thread rule: any task. A response's body is read by one task at a time: from a tasklet, on
/// the loop that made the request; from elsewhere, from any task.
public final class Client: @unchecked Sendable {  // immutable, or guarded: pools and caches lock
    /// The options this client was made with (fixed for its life).
    public let configuration: HTTPClientConfiguration
    let pool: ConnectionPool<LoopConnection>
    let tlsContexts: TLSContextCache
    let workersOverride: WorkerPool?
    /// The blocking engine that `engine: .workers` requests use.
    public let blockingClient: BlockingClient
    /// Made from `configuration.metrics`, shared with `blockingClient`; nil without one.
    let metrics: ClientMetrics?
    /// Where calls from outside a tasklet run.
    let homeLoop: HomeLoop
    let hopCounters = HopCounters()

    /// - Parameters:
    ///   - configuration: timeouts, redirects, pool, TLS, limits, default engine.
    ///   - workers: the pool that `.workers` requests run on; nil: `Client.sharedWorkerPool()`,
    ///     which starts 8 threads on the first `.workers` request (none before, none for `.loop`).
    ///
    /// Starts no thread. The first call from outside a tasklet starts one ("http-client") unless
    /// `configuration.loop` is set; see the type's comment.
    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration(), workers: WorkerPool? = nil) {
        self.configuration = configuration
        let pool = ConnectionPool<LoopConnection>(
            maxPerOrigin: configuration.maxConnectionsPerHost, maxIdle: configuration.idleConnectionLimit,
            expiry: configuration.idleConnectionExpiry)
        self.pool = pool
        homeLoop = HomeLoop(given: configuration.loop) { loop in pool.closeIdle(on: loop) }
        tlsContexts = TLSContextCache(configuration.tls)
        workersOverride = workers
        metrics = configuration.metrics.map(ClientMetrics.init)
        blockingClient = BlockingClient(configuration: configuration, metrics: metrics)
    }

    deinit { homeLoop.shutdown() }

    /// Sends `request` and returns the final response once its head has arrived (after any
    /// redirects); read its `body` next.
    ///
    /// Any task. From a tasklet it runs in place on that tasklet's loop. From any other task it
    /// runs in a tasklet of the home loop (see the type's comment; the first such call may start
    /// the "http-client" thread) and the caller's task suspends until the head is back;
    /// cancelling that task cancels the request, as does dropping the body before its end.
    /// - Parameters:
    ///   - request: what to send.
    ///   - engine: overrides `configuration.engine` for this request.
    /// - Throws: `HTTPClientError` (the same cases on both engines), `CancellationError`; on
    ///   `.workers` with no pool given, what `Client.sharedWorkerPool()` throws when its threads
    ///   cannot start; off a loop, `ThreadStartError` when the "http-client" thread cannot
    ///   start and `LoopError.taskletLimitReached` when the home loop is full.
    public func execute(_ request: HTTPRequest, engine: HTTPEngine? = nil) async throws -> HTTPResponse {
        let engine = engine ?? configuration.engine
        guard let loop = Loop.current else { return try await executeFromOutside(request, engine: engine) }
        switch engine {
        case .loop: return try await executeOnLoop(request)
        case .workers:
            return try await executeOnWorkers(request, pool: workersOverride ?? Client.sharedWorkerPool(), loop: loop)
        }
    }

    /// Lets the "http-client" thread end, if the client started it: its loop closes the idle
    /// connections it pooled and returns once the requests in flight there have ended (a body
    /// still being read keeps it going until read or dropped). Does not wait. A later call
    /// from outside a tasklet starts a new thread. The client's `deinit` calls it. Any thread.
    public func shutdown() { homeLoop.shutdown() }

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

    /// The worker pool that `.workers` requests use when the client was given none: made on
    /// the first call, then the same pool for every such client in the process.
    ///
    /// Starting it starts exactly 8 worker threads ("http-workers-0" ... "http-workers-7",
    /// 512 KiB stacks, at most 256 queued jobs) and no other: the pool's watchdog is opt-in
    /// (`WorkerPool.setWatchdog`, one more thread). They run until the process ends. A program
    /// that counts its threads (a game) passes its own pool to `init(configuration:workers:)`
    /// instead.
    /// Thread rule: any thread; a lock makes the first use happen once.
    /// - Throws: what `WorkerPool.init` throws when the threads cannot be started (the
    ///   process is out of threads or memory); the next call tries again.
    public static func sharedWorkerPool() throws -> WorkerPool {
        try sharedWorkersLock.withLock {
            if let pool = sharedWorkers { return pool }
            let made = try WorkerPool(threads: 8, maxQueued: 256, stackSize: 512 << 10, name: "http-workers")
            sharedWorkers = made
            return made
        }
    }

    private static let sharedWorkersLock = PThreadMutex()
    /// Guarded by `sharedWorkersLock` (a pthread mutex, which ThreadSanitizer understands).
    nonisolated(unsafe) private static var sharedWorkers: WorkerPool?

    // MARK: - The loop engine

    func executeOnLoop(_ request: HTTPRequest) async throws -> HTTPResponse {
        var plan = RequestPlan(request, configuration: configuration, metrics: metrics)
        do { return try await executeOnLoop(&plan) } catch {
            plan.noteFailed()
            throw error
        }
    }

    private func executeOnLoop(_ plan: inout RequestPlan) async throws -> HTTPResponse {
        while true {
            let exchange = try await open(&plan)
            guard let head = exchange.machine.head else { throw HTTPClientError.parse(.truncated("no response")) }  // open() read it
            switch try plan.decide(
                after: head,
                timings: exchange.machine.timings(setup: exchange.lease.connection.setupTimings(reused: exchange.lease.wasReused)))
            {
            case .follow:
                await exchange.drain()
            case .reject(let error):
                await exchange.drain()
                throw error
            case .respond(let metadata):
                let decoding: BodyDecoding?
                do { decoding = try metadata.makeDecoding() } catch {
                    exchange.abandon()
                    throw error
                }
                plan.noteFinal(exchange.lease)
                let source: BodySource = decoding.map { DecodingBodySource(exchange, decoding: $0) } ?? exchange
                return HTTPResponse(metadata: metadata, body: HTTPBody(source: source), engine: .loop)
            }
        }
    }

    /// Takes a pool permit, then a connection (idle or new), sends the request and reads the
    /// head; sends it again on a new connection when the plan allows (a stale keep-alive one).
    private func open(_ plan: inout RequestPlan) async throws -> AsyncExchangeDriver {
        let head = try plan.requestHead()
        let key = plan.poolKey(loop: Loop.current)
        // Waiting for a free connection counts against the total timeout only.
        guard try await pool.acquirePermit(for: key, timeout: plan.clock.untilDeadline) else { throw plan.clock.totalTimedOut }
        while true {
            let lease: ConnectionLease<LoopConnection>
            do { lease = try await self.lease(key, for: plan.route, clock: plan.clock) } catch {
                plan.noteConnectFailed(error)
                throw error
            }
            plan.noteCheckedOut(lease)
            let exchange = AsyncExchangeDriver(
                lease, machine: plan.machine(head: head, on: lease, limits: configuration.parserLimits), bodyReader: plan.bodyReader())
            guard case .failed(let error, let retryable) = await exchange.open() else { return exchange }
            let again = plan.retries(after: retryable)
            lease.close(keepingPermit: again)
            if !again { throw error }
        }
    }

    /// An idle connection to `key`, or a new one; the permit is given up if connecting fails.
    private func lease(_ key: PoolKey, for route: ConnectRoute, clock: RequestClock) async throws -> ConnectionLease<LoopConnection> {
        if let idle = pool.takeIdle(for: key) { return ConnectionLease(idle, reused: true, key: key, pool: pool) }
        do {
            let connection = try await connect(route, clock: clock)
            pool.noteOpened()
            return ConnectionLease(connection, reused: false, key: key, pool: pool)
        } catch {
            pool.releasePermit(for: key)
            throw error
        }
    }

    /// Connects as `route` says (TCP; TLS to an https proxy; the tunnel handshake; TLS to an
    /// https origin) within the connect timeout: the I/O of each of `ConnectSteps`' steps.
    private func connect(_ route: ConnectRoute, clock: RequestClock) async throws -> LoopConnection {
        // A bad CA file is the user's to fix: say so before touching the network.
        let context = route.origin.usesTLS || route.tlsToProxy ? try tlsContexts.get() : nil
        let wait = try clock.next(.connect)
        var steps = ConnectSteps(route, context: context, limit: wait.limit, happyEyeballs: configuration.happyEyeballs)
        do {
            let (tcp, resolvedAt) = try await connectFirstHop(try steps.firstHop(), timeout: steps.timeLeft)
            steps.connected(resolvedAt: resolvedAt)
            let stream = try await layers(&steps, over: tcp)
            let connection = LoopConnection(parking: stream, bufferSize: configuration.connectionBufferSize)
            connection.setup = steps.timings
            return connection
        } catch {
            throw clock.wrap(error, wait)
        }
    }

    /// Runs the steps after the first connection: the stream they make, or the error of the one
    /// that failed, with the connection closed.
    private func layers(_ steps: inout ConnectSteps, over tcp: StreamSocket) async throws -> any AsyncByteStream {
        var stream: any AsyncByteStream = tcp
        do {
            while let step = steps.next() {
                switch step {
                case .tls(let context, let serverName):
                    stream = try await TLSStream.connect(over: stream, context: context, serverName: serverName, timeout: steps.timeLeft)
                case .lookUp(let host, let port):
                    let resolver = try configuration.resolver ?? Resolver.shared()
                    let found = try await resolver.resolve(
                        host: host, port: port, families: configuration.happyEyeballs.families, timeout: steps.timeLeft)
                    steps.lookedUp(found)
                case .tunnel(let handshake):
                    try await ProxyTunnel.open(handshake, over: stream, deadline: steps.deadline)
                }
            }
            return stream
        } catch {
            stream.close()  // now, not at its deinit; idempotent (a failed TLS handshake has closed it)
            throw error
        }
    }

    /// The TCP (or Unix socket) connection `hop` names, and when its name was resolved
    /// (`MonotonicClock` nanoseconds; nil with no lookup).
    private func connectFirstHop(_ hop: ConnectSteps.FirstHop, timeout: Duration?) async throws -> (StreamSocket, Int64?) {
        switch hop {
        case .unixSocket(let address), .address(let address):
            return (try await StreamSocket.connect(to: address, timeout: timeout), nil)
        case .name(let host, let port):
            return try await StreamSocket.connectTimed(
                host: host, port: port, timeout: timeout, resolver: configuration.resolver, happyEyeballs: configuration.happyEyeballs)
        }
    }
}
