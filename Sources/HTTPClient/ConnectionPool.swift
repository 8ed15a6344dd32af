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

    init(_ url: HTTPURL, loop: Loop?) {
        scheme = url.scheme
        host = url.host
        port = url.port
        self.loop = loop.map(ObjectIdentifier.init)
    }
}

/// Keep-alive connections per origin, shared by every request of a client.
///
/// The cap counts connections in use: a request takes a permit (a NetCore `Semaphore`, so a
/// tasklet parks and a worker thread blocks while the origin is at its cap), then reuses the
/// newest idle connection or opens one. A connection opens only when none is idle, so open
/// connections (in use plus idle) never pass the cap. Idle ones expire after `expiry`, and one
/// the server has closed is dropped when it is next looked at. Safe from any thread.
final class ConnectionPool<Connection: PooledConnection>: @unchecked Sendable {  // state guarded by `mutex`
    private struct Idle {
        var connection: Connection
        var since: ContinuousClock.Instant
    }

    let maxPerOrigin: Int
    let expiry: Duration
    private let mutex = PThreadMutex()
    private var idle: [PoolKey: [Idle]] = [:]
    private var permits: [PoolKey: NetCore.Semaphore] = [:]
    private(set) var connectionsOpened = 0

    init(maxPerOrigin: Int, expiry: Duration) {
        self.maxPerOrigin = maxPerOrigin
        self.expiry = expiry
    }

    /// The semaphore whose permit a request holds while it uses a connection to `key`.
    func permit(for key: PoolKey) -> NetCore.Semaphore {
        mutex.withLock {
            if let semaphore = permits[key] { return semaphore }
            let semaphore = NetCore.Semaphore(maxPerOrigin)
            permits[key] = semaphore
            return semaphore
        }
    }

    /// The newest idle connection to `key` that is fresh and still open; stale ones are closed.
    func takeIdle(for key: PoolKey) -> Connection? {
        let now = ContinuousClock.now
        var stale: [Connection] = []
        let found: Connection? = mutex.withLock {
            while var list = idle[key], let last = list.popLast() {
                idle[key] = list.isEmpty ? nil : list
                // The liveness probe is a system call; a connection parked moments ago is taken on
                // trust (a stale one is caught on first use and an idempotent request retried).
                let age = now - last.since
                if age < expiry && (age < .milliseconds(50) || last.connection.isReusable) { return last.connection }
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
        mutex.withLock { idle[key, default: []].append(Idle(connection: connection, since: .now)) }
        permit(for: key).release()
    }

    /// Gives up a permit whose connection was closed (an error, a body left unread).
    func releasePermit(for key: PoolKey) {
        permit(for: key).release()
    }

    /// Idle connections right now, over every origin.
    var idleCount: Int { mutex.withLock { idle.values.reduce(0) { $0 + $1.count } } }

    /// Closes every idle connection (connections in use close when their response ends).
    func closeIdle() {
        let all = mutex.withLock {
            let list = idle.values.flatMap { $0.map(\.connection) }
            idle.removeAll()
            return list
        }
        for connection in all { connection.close() }
    }
}
