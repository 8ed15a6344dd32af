import NetCore
import NetTLS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The project's fault-injecting HTTP/1.1 server, for tests, the demo and the soak tester.
///
/// A testing product: link the `HTTPTestServer` library to test any HTTP/1.1 client against a
/// server that misbehaves on request (AsyncHTTPClient ships nothing like it). It runs in the test
/// process, on 127.0.0.1 port 0 by default, and every byte it serves can be checked without a copy.
///
/// It serves generated content (`GeneratedContent`) with ranges, chunked framing, validators and
/// injectable faults, plus status pages, redirects and an echo, from its own `Loop` on its own
/// OS thread: one tasklet per connection, keep-alive by default, `Connection: close` honoured,
/// HEAD answered with the GET head. Request heads over 64 KiB get 431, malformed ones 400 (then
/// the connection closes); request bodies need `Content-Length`.
///
/// URLs (query values are percent-decoded):
/// - `/gen/<size>` (size in bytes, or with a `k`/`m`/`g` suffix): `size` bytes of
///   `GeneratedContent`. Query: `seed=` (default 1); `chunked=1` (`chunk=` bytes per chunk,
///   default 16384; `trailer=1` adds the trailer field `X-Generated-Length`); `noRange=1` (ignore
///   Range); `etag=` (default `"<seed>-<size>"`); `mtime=` (Last-Modified, default
///   `Sat, 01 Jan 2022 00:00:00 GMT`); `validators=0` (neither ETag nor Last-Modified, and
///   If-Range ignored); `name=` (Content-Disposition attachment filename); `disposition=` (a
///   Content-Disposition value sent as given); `lie=206` (a 206 for the whole body even when no
///   range was asked for); `counter=T&changeAfter=K` (from the K+1-th request carrying T on,
///   the content and ETag of seed + 1: a file that changes mid-download);
///   `close=1` (Connection: close). A single `Range` (`bytes=a-b`, `a-`, `-n`) gets 206 with
///   Content-Range, an unsatisfiable one 416 with `bytes */size`, multi-range or malformed 200.
///   `If-Range` keeps the Range only if it equals the strong ETag or the Last-Modified string.
///   A GET whose `If-None-Match` lists the ETag (weak comparison, or `*`), or, without
///   If-None-Match, whose `If-Modified-Since` is at or after the Last-Modified, gets 304.
/// - Faults on `/gen`, offsets counted in body bytes of this response: `fault=reset&at=N`
///   (SO_LINGER 0 close: ECONNRESET), `fault=close&at=N` (clean close, body short),
///   `fault=stall&at=N&ms=M` (pause, default 1000 ms), `fault=drip&rate=B` (bytes per second,
///   default 65536), `fault=malformed&kind=K` (badStatusLine, badHeader, obsFold,
///   badContentLength, conflictingContentLength, badChunkSize, hugeHeader, garbage, truncatedHead),
///   `fault=status&code=C` (that status, short text body, `Retry-After: 1` with 503, or
///   `Retry-After: V` with `retryAfter=V`).
///   `once=TOKEN`: the fault fires only on the first request carrying TOKEN (remembered per server).
/// - `/status/<code>` (200-599; 204 and 304 without body), `/redirect/<code>?to=<target>` (301,
///   302, 303, 307, 308; Location as given), `/redirect-chain/<n>?code=<c>` (to n-1; 0 goes to
///   `/gen/1024`), `/redirect-loop` and `/redirect-loop2` (to each other), `/echo` (any method:
///   request line, fields as `name: value`, an empty line, then the body; LF line ends).
///   Anything else is 404; a bad query value is 400 with the reason in the body.
/// - On any URL, `maxBody=N`: a request body over N bytes gets 413 after N of its bytes (for a
///   chunked body, at the chunk size that passes N) and the connection closes, as an upload
///   limit does while the client may still be sending.
/// - Every request head received is kept for the test to read (`receivedRequests`).
///
/// Thread rules: every member is safe from any thread except the server loop's own (nobody else
/// has that loop, so in practice: any thread).
public final class TestHTTPServer: @unchecked Sendable {  // `thread` is written once in start; `stopped` is atomic
    /// How to listen and serve.
    public struct Configuration: Sendable {
        /// An IP literal to bind to ("localhost" means 127.0.0.1).
        public var host: String
        /// The port; 0 picks a free one (read it from `port`).
        public var port: UInt16
        /// Idle keep-alive connections are closed after this long without a new request.
        public var keepAliveTimeout: Duration
        /// How long a response write may wait for a client that does not read before the
        /// connection is dropped.
        public var writeTimeout: Duration
        /// Serve HTTPS with this server context (`TLSContext.server(certificateFile:privateKeyFile:)`);
        /// nil serves plain HTTP.
        public var tls: TLSContext?
        /// How long a client may take to complete the TLS handshake.
        public var tlsHandshakeTimeout: Duration
        /// The CPUs the server's thread may run on (set before it starts); nil: wherever the
        /// thread calling `start` may. Lets a stand-in for a remote server stay off the cores
        /// of the client under measurement, where a real server would never run.
        public var cpus: [Int]?
        /// Listen on this Unix socket path instead of `host` and `port` (the file must not
        /// exist; `stop()` removes it). `port` then reads 0.
        public var unixSocketPath: String?

        /// A configuration; every argument is the property of the same name. The defaults: 127.0.0.1,
        /// any free port, plain HTTP.
        public init(
            host: String = "127.0.0.1", port: UInt16 = 0, keepAliveTimeout: Duration = .seconds(5),
            writeTimeout: Duration = .seconds(60), tls: TLSContext? = nil,
            tlsHandshakeTimeout: Duration = .seconds(10), cpus: [Int]? = nil, unixSocketPath: String? = nil
        ) {
            self.unixSocketPath = unixSocketPath
            self.host = host
            self.port = port
            self.keepAliveTimeout = keepAliveTimeout
            self.writeTimeout = writeTimeout
            self.tls = tls
            self.tlsHandshakeTimeout = tlsHandshakeTimeout
            self.cpus = cpus
        }
    }

    /// Counts since start.
    public struct Stats: Sendable, Equatable {
        /// Connections accepted.
        public var connectionsAccepted: Int
        /// Requests answered, counted when the response starts (refusals like 400 included).
        public var requestsServed: Int
        /// Connections open now.
        public var openConnections: Int
        /// Bytes the server has written to clients, counted when a write completes (so a write
        /// waiting for the client to make room is not yet in it); plaintext bytes under TLS.
        /// What a client that stops reading lets through is bounded by the socket buffers.
        public var bytesSent: Int
    }

    /// The configuration the server was made with.
    public let configuration: Configuration
    /// The bound port.
    public let port: UInt16

    private let core: ServerCore
    private let loop: Loop
    private var thread = pthread_t()
    private let stopped = Atomic<Bool>(false)

    private init(configuration: Configuration, core: ServerCore, loop: Loop, port: UInt16) {
        self.configuration = configuration
        self.core = core
        self.loop = loop
        self.port = port
    }

    /// Binds, listens, and starts serving on a new thread. The server accepts connections as soon
    /// as this returns.
    /// - Throws: `NetError` (`.invalidAddress` for a host that is not an IP literal,
    ///   `.addressInUse`, ...), `LoopError`, `TestHTTPServerError.threadStart`, or
    ///   `TestHTTPServerError.placement` when `configuration.cpus` is empty, out of range, or
    ///   refused by the kernel (then nothing is left listening or running).
    /// May be called from any thread.
    public static func start(_ configuration: Configuration = .init()) throws -> TestHTTPServer {
        if let cpus = configuration.cpus {
            // Checked before binding: a bad set leaves nothing listening.
            do { try CPUPlacement.validate(cpus) } catch { throw TestHTTPServerError.placement(error) }
        }
        let host = configuration.host == "localhost" ? "127.0.0.1" : configuration.host
        let address = try configuration.unixSocketPath.map { try SocketAddress(unixPath: $0) }
        let listener = try TCPListener(bindTo: try address ?? SocketAddress(ip: host, port: configuration.port))
        let loop: Loop
        do {
            loop = try Loop(name: "test-http-server")
        } catch {
            listener.close()
            throw error
        }
        let core = ServerCore(loop: loop, listener: listener, configuration: configuration)
        let server = TestHTTPServer(configuration: configuration, core: core, loop: loop, port: listener.port)
        loop.spawn(name: "http-accept") { await core.acceptConnections() }
        do {
            server.thread = try OSThreads.start(cpus: configuration.cpus) { loop.run() }
        } catch {
            server.stopped.store(true, ordering: .relaxed)
            listener.close()
            switch error {
            case .placement(let placement): throw TestHTTPServerError.placement(placement)
            case .failed(let code): throw TestHTTPServerError.threadStart(code)
            }
        }
        return server
    }

    deinit { stop() }

    /// "http://HOST:PORT" ("https://" with TLS) with the address clients should use (127.0.0.1 for a wildcard bind).
    public var baseURL: String {
        var host = configuration.host
        if host == "0.0.0.0" || host == "localhost" { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        if host.contains(":") { host = "[\(host)]" }
        return "\(configuration.tls == nil ? "http" : "https")://\(host):\(port)"
    }

    /// The counters now.
    public var stats: Stats {
        Stats(
            connectionsAccepted: core.counters.connectionsAccepted.load(ordering: .relaxed),
            requestsServed: core.counters.requestsServed.load(ordering: .relaxed),
            openConnections: core.counters.openConnections.load(ordering: .relaxed),
            bytesSent: core.counters.bytesSent.load(ordering: .relaxed))
    }

    /// Every TLS handshake a client completed with the server so far, oldest first (the last
    /// 10,000): what ALPN chose and which certificates the client presented.
    public var tlsHandshakes: [TLSHandshakeRecord] { core.counters.handshakes }

    /// TLS handshakes that failed (a client refused for its certificate, a version it lacks, ...).
    public var failedTLSHandshakes: Int { core.counters.failedHandshakes.load(ordering: .relaxed) }

    /// Every request head the server received so far, oldest first (the last 10,000).
    public var receivedRequests: [RecordedRequest] { core.counters.recorded }

    /// Stops serving: closes the listener and every connection, stops the loop and joins its
    /// thread. Idempotent; `deinit` calls it. Blocks for at most about two seconds.
    /// Call from any thread but the server's own loop.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loop.spawn(name: "http-shutdown") { [core] in await core.shutdown() }
        pthread_join(thread, nil)
        if let path = configuration.unixSocketPath { unlink(path) }
    }
}

/// Errors of `TestHTTPServer.start` that are not socket errors.
public enum TestHTTPServerError: Error, CustomStringConvertible {
    /// pthread_create failed with this code.
    case threadStart(Int32)
    /// The server's thread could not be placed on `Configuration.cpus`.
    case placement(CPUPlacementError)

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .threadStart(let code): return "could not start the server thread: pthread_create returned \(code)"
        case .placement(let error): return "could not place the server thread: \(error)"
        }
    }
}
