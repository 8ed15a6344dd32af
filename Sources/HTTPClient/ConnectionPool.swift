import NetCore

/// What the pool needs of a connection.
protocol PooledConnection: AnyObject {
    var isReusable: Bool { get }
    func close()
}

/// Where a connection goes: one origin, and for the loop engine one loop (a socket belongs to
/// the loop that first waited on it).
struct PoolKey: Hashable, Sendable {
    var scheme: String
    var host: String
    var port: UInt16
    var loop: ObjectIdentifier?
    /// The proxy the connection goes through, with its credential ("" for none): a connection
    /// is pooled per (proxy, origin). A string, not an `HTTPProxy?`: the pool compares keys on
    /// every look-up, and an empty string compares in one step where an optional struct is
    /// copied out first.
    var proxy: String

    init(_ url: HTTPURL, loop: Loop?, proxy: HTTPProxy? = nil) {
        scheme = url.scheme
        host = url.host
        port = url.port
        self.loop = loop.map(ObjectIdentifier.init)
        self.proxy = proxy.map { "\($0) \($0.credential.map { "\($0.user):\($0.password)" } ?? "")" } ?? ""
    }
}

/// Keep-alive connections per origin, shared by every request of a client.
///
/// The cap counts connections in use: a request takes a permit (a NetCore `Semaphore`, so a
/// tasklet parks and a worker thread blocks while the origin is at its cap), then reuses the
/// newest idle connection or opens one. A connection opens only when none is idle, so open
/// connections (in use plus idle) never pass the cap.
///
/// Nothing in it grows without bound: an origin's entry (its semaphore and idle list) goes as
/// soon as no request holds or waits for a permit and no connection of it is idle; idle
/// connections number at most `maxIdle` over all origins (the oldest is closed to make room),
/// and on every check-in and look-up those idle past `expiry` are closed, whatever their
/// origin. Safe from any thread.
final class ConnectionPool<Connection: PooledConnection>: @unchecked Sendable {  // state guarded by `mutex`
    private struct Idle {
        var connection: Connection
        var since: ContinuousClock.Instant
    }

    /// One origin's permits, the requests holding or waiting for one, and its idle connections.
    /// A class, so that an entry is changed in place: one dictionary look-up per pool call
    /// instead of a read and a write-back (and no copy of the idle list on the way).
    private final class Origin {
        let permits: NetCore.Semaphore
        var users = 0
        var idle: [Idle] = []
        init(permits: NetCore.Semaphore) { self.permits = permits }
        var isUnused: Bool { users == 0 && idle.isEmpty }
    }

    let maxPerOrigin: Int
    let maxIdle: Int
    let expiry: Duration
    private let mutex = PThreadMutex()
    private var origins: [PoolKey: Origin] = [:]
    private var idleTotal = 0
    /// No idle connection checked in before this (nil: none idle): lets a sweep be skipped
    /// until one can have expired. A lower bound, made exact by each sweep.
    private var oldestIdleSince: ContinuousClock.Instant?
    private(set) var connectionsOpened = 0

    init(maxPerOrigin: Int, maxIdle: Int, expiry: Duration) {
        self.maxPerOrigin = maxPerOrigin
        self.maxIdle = max(0, maxIdle)
        self.expiry = expiry
    }

    // MARK: - Permits

    /// Takes a permit for `key`, parking the calling tasklet while the origin is at its cap.
    /// - Returns: false when `timeout` passed first. - Throws: `CancellationError`.
    func acquirePermit(for key: PoolKey, timeout: Duration?) async throws -> Bool {
        let permits = enter(key)
        let acquired: Bool
        do {
            acquired = try await permits.acquire(timeout: timeout)
        } catch {
            leave(key)
            throw error
        }
        if !acquired { leave(key) }
        return acquired
    }

    /// `acquirePermit` for a plain thread: blocks it. - Returns: false when `timeout` passed first.
    func acquirePermitBlocking(for key: PoolKey, timeout: Duration?) -> Bool {
        let acquired = enter(key).acquireBlocking(timeout: timeout)
        if !acquired { leave(key) }
        return acquired
    }

    /// Gives up a permit whose connection was closed (an error, a body left unread).
    func releasePermit(for key: PoolKey) {
        let permits = leave(key)
        permits?.release()
    }

    /// Counts a request on `key` (holding or waiting for a permit), making the entry if needed.
    private func enter(_ key: PoolKey) -> NetCore.Semaphore {
        mutex.withLock {
            if let origin = origins[key] {
                origin.users += 1
                return origin.permits
            }
            let origin = Origin(permits: NetCore.Semaphore(maxPerOrigin))
            origin.users = 1
            origins[key] = origin
            return origin.permits
        }
    }

    /// Uncounts a request; the entry goes when nothing uses it (a later request makes a new
    /// one, with every permit free, which is right: nobody holds one). - Returns: the
    /// origin's permits (a waiter, if any, keeps the entry).
    @discardableResult
    private func leave(_ key: PoolKey) -> NetCore.Semaphore? {
        mutex.withLock {
            guard let origin = origins[key] else { return nil }
            origin.users -= 1
            if origin.isUnused { origins[key] = nil }
            return origin.permits
        }
    }

    // MARK: - Idle connections

    /// The newest idle connection to `key` that is fresh and still open; stale ones are closed.
    func takeIdle(for key: PoolKey) -> Connection? {
        let now = ContinuousClock.now
        var stale = removeExpired(now: now)
        let found: Connection? = mutex.withLock {
            guard let origin = origins[key] else { return nil }
            while let last = origin.idle.popLast() {
                idleTotal -= 1
                // The liveness probe is a system call; a connection parked moments ago is taken on
                // trust (a stale one is caught on first use and an idempotent request retried).
                if now - last.since < .milliseconds(50) || last.connection.isReusable { return last.connection }
                stale.append(last.connection)
            }
            return nil
        }
        for connection in stale { connection.close() }
        return found
    }

    /// Counts a newly opened connection (for stats and tests).
    func noteOpened() { mutex.withLock { connectionsOpened += 1 } }

    /// Returns a connection whose response was read to its end; its permit is released.
    func checkIn(_ connection: Connection, for key: PoolKey) {
        let now = ContinuousClock.now
        var closing = removeExpired(now: now)
        mutex.withLock {
            guard maxIdle > 0 else { return closing.append(connection) }
            while idleTotal >= maxIdle, let oldest = removeOldestIdle() { closing.append(oldest) }
            // The caller's permit keeps the origin's entry; without one there is nowhere to keep it.
            guard origins[key]?.idle.append(Idle(connection: connection, since: now)) != nil else {
                return closing.append(connection)
            }
            idleTotal += 1
            if oldestIdleSince == nil { oldestIdleSince = now }
        }
        // These may belong to another loop: closing an idle socket from this thread is safe,
        // since no tasklet waits on it (close only has watchers to stop when one does).
        for stale in closing { stale.close() }
        releasePermit(for: key)
    }

    /// Removes the idle connections past `expiry`, over every origin, and returns them to close.
    private func removeExpired(now: ContinuousClock.Instant) -> [Connection] {
        mutex.withLock {
            var expired: [Connection] = []
            guard let oldest = oldestIdleSince, now - oldest >= expiry else { return expired }
            var stillOldest: ContinuousClock.Instant?
            for (key, origin) in origins where !origin.idle.isEmpty {
                let before = origin.idle.count
                origin.idle.removeAll { idle in
                    guard now - idle.since >= expiry else { return false }
                    expired.append(idle.connection)
                    return true
                }
                idleTotal -= before - origin.idle.count
                if let first = origin.idle.first?.since, stillOldest.map({ first < $0 }) ?? true { stillOldest = first }
                if origin.isUnused { origins[key] = nil }
            }
            oldestIdleSince = stillOldest
            return expired
        }
    }

    /// Removes the longest-idle connection of any origin. Caller holds `mutex`.
    private func removeOldestIdle() -> Connection? {
        var oldest: (key: PoolKey, since: ContinuousClock.Instant)?
        for (key, origin) in origins {
            // Each list is in check-in order: its first is its oldest.
            if let first = origin.idle.first, oldest.map({ first.since < $0.since }) ?? true { oldest = (key, first.since) }
        }
        guard let key = oldest?.key, let origin = origins[key] else { return nil }
        let connection = origin.idle.removeFirst().connection
        idleTotal -= 1
        if origin.isUnused { origins[key] = nil }
        return connection
    }

    /// Idle connections right now, over every origin.
    var idleCount: Int { mutex.withLock { idleTotal } }

    /// Connections leased (a permit held: connecting or carrying a request), idle, and
    /// requests waiting for a permit, over all origins, at one instant.
    var occupancy: (leased: Int, idle: Int, waiters: Int) {
        mutex.withLock {
            var leased = 0
            var waiting = 0
            for origin in origins.values {
                let holders = maxPerOrigin - max(0, origin.permits.value)
                leased += holders
                waiting += max(0, origin.users - holders)
            }
            return (leased, idleTotal, waiting)
        }
    }

    /// Origins with an entry now (a request using them or an idle connection): for tests of the bound.
    var originCount: Int { mutex.withLock { origins.count } }

    /// Closes every idle connection (connections in use close when their response ends).
    func closeIdle() {
        let all: [Connection] = mutex.withLock {
            var list: [Connection] = []
            for (key, origin) in origins {
                list += origin.idle.map(\.connection)
                origin.idle.removeAll()
                if origin.isUnused { origins[key] = nil }
            }
            idleTotal = 0
            oldestIdleSince = nil
            return list
        }
        for connection in all { connection.close() }
    }
}

/// A connection of either engine with the read buffer its exchanges share (one per
/// connection, not per request: see `ReadBuffer`). `Stream` is `any AsyncByteStream` for the
/// loop engine and `any BlockingByteStream` for the blocking one.
final class HTTPConnection<Stream>: PooledConnection {
    let stream: Stream
    let buffer: ReadBuffer
    /// How long this connection's set-up took (`RequestTimings`, its first byte unset); set
    /// once by the engine that made it, before it is leased.
    var setup = RequestTimings()
    private let probe: () -> Bool
    private let closer: () -> Void

    /// - Parameters: `isReusable` and `close` are the stream's own (its protocol says how).
    init(stream: Stream, bufferSize: Int, isReusable: @escaping () -> Bool, close: @escaping () -> Void) {
        self.stream = stream
        buffer = ReadBuffer(size: bufferSize)
        probe = isReusable
        closer = close
    }

    var isReusable: Bool { probe() }
    func close() { closer() }

    /// The set-up timings a request on it reports: `setup`, zero when it came from the pool.
    func setupTimings(reused: Bool) -> RequestTimings { reused ? setup.reused : setup }
}

/// One exchange's hold on a connection and on its origin's pool permit, given up exactly once:
/// back to the pool when the response ended and the server allows another request, else
/// closed. Dropping the lease unreleased closes the connection.
final class ConnectionLease<Connection: PooledConnection> {
    let connection: Connection
    let wasReused: Bool
    private let key: PoolKey
    private let pool: ConnectionPool<Connection>
    private var released = false
    /// Runs once, just before the connection is given back or closed (the blocking engine
    /// detaches its cancellation here, so a late cancel cannot shut a socket another request uses).
    var willRelease: (() -> Void)?
    /// The request's log: told whether the connection went back to the pool or closed.
    var log: RequestLog?
    /// The client's metrics (nil: none): told the bytes moved, and the request's end.
    var metrics: ClientMetrics?
    /// Bytes read from and written to the connection by this lease's exchanges.
    var bytesIn = 0
    var bytesOut = 0
    /// Set on the final response's lease: its normal end records the whole-request time.
    var requestStarted: ContinuousClock.Instant?

    init(_ connection: Connection, reused: Bool, key: PoolKey, pool: ConnectionPool<Connection>) {
        self.connection = connection
        wasReused = reused
        self.key = key
        self.pool = pool
    }

    deinit { close() }

    /// Applies the verdict of an exchange machine's step that ended: a `reuse` gives the
    /// connection back or closes it; a failure is left to the caller (it may retry).
    /// - Returns: `action`, unchanged.
    func settle(_ action: HTTPExchangeMachine.Action) -> HTTPExchangeMachine.Action {
        switch action {
        case .headReady(let reuse?), .deliver(_, let reuse?), .finished(let reuse): end(reuse: reuse)
        default: break
        }
        return action
    }

    /// The byte count of a step that read body bytes (0 at the end of the body).
    /// - Throws: the step's failure, after closing the connection.
    func bodyCount(_ action: HTTPExchangeMachine.Action) throws -> Int {
        switch action {
        case .deliver(let count, _): return count
        case .failed(let error, _):
            close()
            throw error
        default: return 0
        }
    }

    /// Back to the pool (`reuse`) or closed; the permit is freed either way.
    func end(reuse: Bool) {
        guard !released else { return }
        released = true
        willRelease?()
        log?.returned(keptAlive: reuse)
        if let metrics {
            report(to: metrics)
            if let requestStarted { metrics.request.record(duration: ContinuousClock.now - requestStarted) }
        }
        if reuse {
            pool.checkIn(connection, for: key)
        } else {
            connection.close()
            pool.releasePermit(for: key)
        }
    }

    private func report(to metrics: ClientMetrics) {
        if bytesIn > 0 { metrics.bytesIn.increment(by: Int64(bytesIn)) }
        if bytesOut > 0 { metrics.bytesOut.increment(by: Int64(bytesOut)) }
    }

    /// Closes the connection (an error, or a body nobody will read) and frees the permit,
    /// unless the caller keeps it for a retry on a new connection.
    func close(keepingPermit: Bool = false) {
        guard !released else { return }
        released = true
        willRelease?()
        log?.returned(keptAlive: false)
        if let metrics { report(to: metrics) }
        connection.close()
        if !keepingPermit { pool.releasePermit(for: key) }
    }
}
