import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// A name that could not be resolved, with getaddrinfo's code and message.
public struct ResolverError: Error, Equatable, CustomStringConvertible {
    /// The `EAI_*` code (`EAI_NONAME`, `EAI_AGAIN`, ...); `EAI_SYSTEM` comes with `systemErrno`.
    public var code: Int32
    /// With `EAI_SYSTEM`, the errno getaddrinfo left; otherwise 0.
    public var systemErrno: Int32
    /// The name that was looked up.
    public var host: String

    /// An error with getaddrinfo's `code` (and `systemErrno` for `EAI_SYSTEM`) for `host`; for
    /// a lookup given to `Resolver(pool:lookUp:)` that does not know a name (`EAI_NONAME`).
    public init(code: Int32, systemErrno: Int32, host: String) {
        self.code = code
        self.systemErrno = systemErrno
        self.host = host
    }

    /// True for "no such host" (EAI_NONAME, or EAI_NODATA: the name exists without addresses).
    public var isNoSuchHost: Bool { code == EAI_NONAME || code == -5 /* EAI_NODATA */ }

    /// A one-line, human-readable account of the error, for logs and messages. It names the host and gai_strerror's message.
    public var description: String {
        var reason = String(cString: gai_strerror(code))
        if code == EAI_SYSTEM { reason += ": " + String(cString: strerror(systemErrno)) }
        return "cannot resolve '\(host)': \(reason) [\(ResolverError.name(of: code))]"
    }

    static func name(of code: Int32) -> String {
        switch code {
        case EAI_NONAME: return "EAI_NONAME"
        case EAI_AGAIN: return "EAI_AGAIN"
        case EAI_FAIL: return "EAI_FAIL"
        case EAI_FAMILY: return "EAI_FAMILY"
        case EAI_MEMORY: return "EAI_MEMORY"
        case EAI_SERVICE: return "EAI_SERVICE"
        case EAI_SYSTEM: return "EAI_SYSTEM"
        case -5: return "EAI_NODATA"
        default: return "EAI \(code)"
        }
    }
}

/// Name resolution with `getaddrinfo`, which blocks, run on a worker pool so that the calling
/// tasklet parks instead of its loop.
public final class Resolver: Sendable {
    /// The pool the lookups run on.
    public let pool: WorkerPool
    /// A lookup of a host's addresses for a port in one family (`AF_INET`, `AF_INET6`) or both
    /// (`AF_UNSPEC`), blocking the worker thread it runs on; throws `ResolverError`.
    public typealias LookUp = @Sendable (_ host: String, _ port: UInt16, _ family: Int32) throws -> [SocketAddress]

    /// The lookup itself, called on a worker thread: `Resolver.lookUp` (getaddrinfo) unless
    /// another was given to `init(pool:lookUp:)`.
    public let lookUp: LookUp

    /// The process-wide resolver: its own small pool of 2 worker threads (256 KiB stacks, named
    /// "resolver-0" and "resolver-1"), started by the first call that succeeds; later calls
    /// return the same resolver and start nothing. Its threads live as long as the process.
    ///
    /// A program that must account for its threads (a game) makes its own
    /// `Resolver(pool:)` instead and passes it to `StreamSocket.connect(host:port:timeout:resolver:happyEyeballs:)`.
    /// - Throws: `WorkerPoolError.threadStartFailed` (EAGAIN: a thread or memory limit) when the
    ///   pool cannot start; nothing is kept, so a later call tries again.
    /// Any thread; after the first success, one uncontended mutex.
    public static func shared() throws -> Resolver {
        try SharedResolver.slot.get()
    }

    /// Makes a resolver whose lookups run on `pool` (the caller's threads; this starts none).
    /// - Parameter lookUp: answers a lookup in place of getaddrinfo (curl's `--resolve`, or a
    ///   test's name with an address that drops packets); it runs on a worker thread (the
    ///   pool's, or the blocking engine's) and throws `ResolverError` for a name it does not know.
    /// - Parameter pool: the worker pool the lookups run on.
    /// Any thread.
    public init(pool: WorkerPool, lookUp: @escaping LookUp = Resolver.lookUp(host:port:family:)) {
        self.pool = pool
        self.lookUp = lookUp
    }

    /// Resolves `host` to socket addresses for `port`, in the order the system prefers
    /// (RFC 6724, /etc/gai.conf): IPv6 and IPv4 as the system sorts them.
    /// - Parameter timeout: the longest to wait; the lookup itself cannot be interrupted and its
    ///   late answer is dropped.
    /// - Parameter host: the name to look up.
    /// - Parameter port: the port the addresses carry.
    /// - Throws: `ResolverError` (EAI_NONAME, ...), `TimeoutError`, `CancellationError`.
    public func resolve(host: String, port: UInt16, timeout: Duration? = .seconds(10)) async throws -> [SocketAddress] {
        try await lookUp(host: host, port: port, family: AF_UNSPEC, timeout: timeout)
    }

    /// One lookup on the pool, within `timeout`. - Throws: as `resolve(host:port:timeout:)`.
    func lookUp(host: String, port: UInt16, family: Int32, timeout: Duration?) async throws -> [SocketAddress] {
        let (pool, lookUp) = (pool, lookUp)
        let lookup: @Sendable () async throws -> [SocketAddress] = {
            try await pool.callAsync("getaddrinfo \(host)") { _ in try lookUp(host, port, family) }
        }
        guard let timeout else { return try await lookup() }
        return try await withTimeout(timeout, lookup)
    }

    /// The lookup itself: blocks the calling thread in getaddrinfo. For code already on a worker
    /// thread (the blocking HTTP engine); a tasklet calls `resolve(host:port:timeout:)`.
    /// - Parameter family: `AF_INET` or `AF_INET6` for one family; `AF_UNSPEC` for both.
    /// - Parameter host: the name to look up.
    /// - Parameter port: the port the addresses carry.
    /// - Throws: `ResolverError`.
    public static func lookUp(host: String, port: UInt16, family: Int32 = AF_UNSPEC) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        // No AI_ADDRCONFIG: glibc then drops a family that has only loopback addresses, so in a
        // loopback-only namespace or container a name that /etc/hosts maps to 127.0.0.1 and ::1
        // did not resolve at all (EAI_NONAME). Happy Eyeballs copes with a family that cannot
        // connect (it fails at once and the next address starts), as curl does without the flag.
        hints.ai_flags = 0
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0 else {
            throw ResolverError(code: code, systemErrno: code == EAI_SYSTEM ? errno : 0, host: host)
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry {
            if let sockaddr = current.pointee.ai_addr,
                let address = SocketAddress(sockaddr, length: current.pointee.ai_addrlen),
                !addresses.contains(address)
            {
                addresses.append(address)
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw ResolverError(code: EAI_NONAME, systemErrno: 0, host: host) }
        return addresses
    }
}

/// Holds `Resolver.shared()`: made under the mutex by the first call that can start its pool.
private final class SharedResolver: @unchecked Sendable {  // `resolver` is guarded by `mutex`
    static let slot = SharedResolver()
    private let mutex = PThreadMutex()
    private var resolver: Resolver?

    func get() throws -> Resolver {
        try mutex.withLock {
            if let resolver { return resolver }
            let made = Resolver(pool: try WorkerPool(threads: 2, maxQueued: 256, stackSize: 256 << 10, name: "resolver"))
            resolver = made
            return made
        }
    }
}
