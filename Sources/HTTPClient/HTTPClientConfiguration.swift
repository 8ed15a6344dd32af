import ContentCoding
import CoreMetrics
import Logging
import NetCore
import NetTLS
import Workers

/// Which engine carries a request.
public enum HTTPEngine: String, Sendable, Equatable, CaseIterable {
    /// Tasklets parked on non-blocking sockets on the calling loop (`Client`'s own engine).
    case loop
    /// `BlockingClient` on a worker thread through `callAsync`; the body comes back through a
    /// channel. For when the loop must not carry the I/O, or when one engine misbehaves.
    case workers
}

/// The options both engines share.
public struct HTTPClientConfiguration: Sendable {
    /// The longest a connection (TCP and TLS handshake) may take; nil: the kernel's limit.
    public var connectTimeout: Duration?
    /// The longest to go without a byte while sending or receiving; nil: forever.
    public var idleTimeout: Duration?
    /// The longest from the end of sending a request to its complete final response head
    /// (interim 1xx responses included), however steadily the bytes arrive: the idle timeout
    /// alone lets a server that sends a byte a second hold a request forever. nil: no limit.
    /// The default, 30 s, is the idle timeout's default; a client that raises `idleTimeout`
    /// for a slow server raises this too. Sending the request is bounded by the idle timeout.
    public var headTimeout: Duration?
    /// The longest a whole request may take, redirects and body included; nil: no limit.
    public var totalTimeout: Duration?
    /// Redirects followed before `tooManyRedirects`; 0 returns the 3xx response itself.
    public var maxRedirects: Int
    /// Open connections per host (scheme, host, port) at most; requests beyond wait.
    public var maxConnectionsPerHost: Int
    /// An idle pooled connection older than this is closed (checked on every use of the pool).
    public var idleConnectionExpiry: Duration
    /// Idle keep-alive connections kept over all origins; the longest idle is closed to make
    /// room. nil: four times `maxConnectionsPerHost`.
    public var maxIdleConnections: Int?
    /// Bytes of each pooled connection's own read buffer (response heads, chunked framing; a
    /// Content-Length body goes straight to the reader's buffer). At least 8 KiB, the most a
    /// head is read at a time.
    public var connectionBufferSize: Int
    /// How https connections (and https proxies) are made: trust roots, verification (on by
    /// default), client certificate, minimum version. Each client makes one TLS context from
    /// it, on its first https request, and keeps it.
    public var tls: TLSConfiguration
    /// The bounds on each response head's lines, size and field count (both engines).
    public var parserLimits: HTTPParserLimits
    /// The most a body chunk of the `.workers` engine holds (each crosses the channel from the
    /// worker as one chunk); the loop engine's chunks are at most `connectionBufferSize`.
    public var readBufferSize: Int
    /// The `User-Agent` sent unless a request's headers have one.
    public var userAgent: String
    /// The engine `Client.execute` uses unless told otherwise.
    public var engine: HTTPEngine
    /// Whether a redirect from an https URL to an http one is followed; false (the default)
    /// fails the request with `HTTPClientError.insecureRedirect` instead.
    public var allowInsecureRedirects: Bool
    /// Where the loop engine looks up host names; nil: `Resolver.shared()`, which starts its 2
    /// threads on the first lookup of a name (an IP literal needs none). A program that counts
    /// its threads passes `Resolver(pool:)` over a pool of its own. The workers engine looks
    /// names up on the worker thread that carries the request, with this resolver's `lookUp`
    /// when one is set (getaddrinfo otherwise), and never uses its pool.
    public var resolver: Resolver?
    /// Where a request without a credential looks for one (curl's `-n`): the entry for the host
    /// of the URL it was made with, only while it goes to that origin. nil (the default): none.
    public var netrc: Netrc?
    /// Whether response bodies are decoded (gzip, deflate, br, zstd), and within which limits.
    /// Off by default, as in AsyncHTTPClient: a body comes as the server sent it. On, requests
    /// send `Accept-Encoding` (unless the caller set one, or asks for a range) and a coded body
    /// is decoded as it is read.
    public var decompression: HTTPDecompression
    /// The proxies requests go through; nil (the default) connects straight to every origin.
    /// `try ProxySettings.fromEnvironment()` opts in to curl's `http_proxy`, `https_proxy`,
    /// `all_proxy` and `no_proxy`. Connections through a proxy are pooled per proxy and origin.
    public var proxy: ProxySettings?
    /// How a host name is connected (RFC 8305: attempts 250 ms apart, the first to connect wins,
    /// the others closed) and which families it may use, on both engines. The loop engine looks
    /// AAAA and A up at once (a late AAAA answer joins the race); the workers engine makes one
    /// lookup of both on its worker thread and races non-blocking connects there.
    public var happyEyeballs: HappyEyeballs
    /// Sees each request head as written and each final response head of a hop (redirects
    /// included) as parsed, for a trace such as `netget -v`; nil (the default): nothing is
    /// called. Called by `RequestPlan` on the thread that runs the exchange (the loop's, or a
    /// worker's with the workers engine): it must be quick and thread-safe. The head bytes carry
    /// credentials as sent: mask them before showing them. A proxy's CONNECT is not shown.
    public var headObserver: (@Sendable (HTTPHeadEvent) -> Void)?
    /// Where both engines tell what a request does, at debug level: look-up, connect and TLS
    /// hand-shake times, pool check-out and return, redirects and retries with their reasons,
    /// each with the request's `http.request.id`, `http.method`, `http.origin` and
    /// `http.attempt` (see the README's logging table). A request's own `HTTPRequest.logger`
    /// wins. The default logs nothing (a no-op handler, as AsyncHTTPClient's). When the
    /// logger's level is above `.debug` a request makes no log call at all: its level is read
    /// once, when the request starts.
    public var logger: Logger = HTTPClientConfiguration.disabledLogger

    /// Where both engines report counters and timers (the README's metrics table): requests by
    /// status class, retries by reason, bytes in and out, TLS failures, connect, TLS handshake,
    /// first-byte and whole-request times. nil (the default): no metric is made or touched.
    /// Pass `MetricsSystem.factory` for the process's bootstrapped backend. Gauges (pool, loop,
    /// worker pools) come from `MetricsGauges`, sampled when the program asks.
    public var metrics: (any MetricsFactory)?
    /// How long a request with `expectsContinue` waits for 100 Continue before it sends its
    /// body anyway (curl's default: 1 s).
    public var expectContinueTimeout: Duration = .seconds(1)

    /// A logger whose handler drops everything (the default `logger`).
    public static let disabledLogger = Logger(label: "stacklessnet.http", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The loop that carries requests made from outside a tasklet (a plain `Task`, an actor);
    /// the caller drives it (`run()` on a thread of theirs, kept alive, or `pump`), and the
    /// client starts no thread. nil (the default): the client starts one loop thread,
    /// "http-client", on the first such call (`Client.shutdown()` lets it end). Requests made
    /// from a tasklet run on that tasklet's loop whatever this says.
    public var loop: Loop?

    /// Every option, with the defaults: 10 s to connect, 30 s idle and head timeouts, no total
    /// timeout, 10 redirects, 8 connections per host, idle connections closed after 30 s,
    /// verified TLS, no decompression, no proxy, the loop engine. Out-of-range values are
    /// raised to the least that works (`maxRedirects` to 0, `maxConnectionsPerHost` to 1,
    /// `connectionBufferSize` to 8 KiB, `readBufferSize` to 4 KiB). Makes nothing and starts
    /// no thread: the client does that when it is used.
    public init(
        connectTimeout: Duration? = .seconds(10), idleTimeout: Duration? = .seconds(30), headTimeout: Duration? = .seconds(30),
        totalTimeout: Duration? = nil,
        maxRedirects: Int = 10, maxConnectionsPerHost: Int = 8, idleConnectionExpiry: Duration = .seconds(30),
        maxIdleConnections: Int? = nil, connectionBufferSize: Int = HTTPReadSizes.connectionBuffer,
        tls: TLSConfiguration = TLSConfiguration(), parserLimits: HTTPParserLimits = HTTPParserLimits(),
        readBufferSize: Int = HTTPReadSizes.workersChunk, userAgent: String = "StacklessNet/0.1", engine: HTTPEngine = .loop,
        allowInsecureRedirects: Bool = false, resolver: Resolver? = nil, netrc: Netrc? = nil,
        decompression: HTTPDecompression = .disabled, proxy: ProxySettings? = nil, happyEyeballs: HappyEyeballs = HappyEyeballs(),
        loop: Loop? = nil
    ) {
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.headTimeout = headTimeout
        self.totalTimeout = totalTimeout
        self.maxRedirects = max(0, maxRedirects)
        self.maxConnectionsPerHost = max(1, maxConnectionsPerHost)
        self.idleConnectionExpiry = idleConnectionExpiry
        self.maxIdleConnections = maxIdleConnections.map { max(0, $0) }
        self.connectionBufferSize = max(Self.minimumConnectionBufferSize, connectionBufferSize)
        self.tls = tls
        self.parserLimits = parserLimits
        self.readBufferSize = max(4096, readBufferSize)
        self.userAgent = userAgent
        self.engine = engine
        self.allowInsecureRedirects = allowInsecureRedirects
        self.resolver = resolver
        self.netrc = netrc
        self.decompression = decompression
        self.proxy = proxy
        self.happyEyeballs = happyEyeballs
        self.loop = loop
    }

    /// A head is read through a window of the connection's buffer (`HTTPReadSizes.headWindow`).
    static let minimumConnectionBufferSize = HTTPReadSizes.headWindow

    /// `maxIdleConnections`, or its default.
    var idleConnectionLimit: Int {
        if let maxIdleConnections { return maxIdleConnections }
        let (product, overflow) = maxConnectionsPerHost.multipliedReportingOverflow(by: 4)
        return overflow ? .max : product  // `.max` per host means no limit: none on idle ones either
    }
}

/// Response decompression, off or on within limits.
public enum HTTPDecompression: Sendable, Equatable {
    /// Bodies come as the server sent them; the client sends no `Accept-Encoding` of its own.
    case disabled
    /// Decode, refusing a body that passes `limits` (`HTTPClientError.decoding`).
    case enabled(DecompressionLimits)

    /// On, with the default limits (a decoded body at most 100 times its encoded size).
    public static var enabled: HTTPDecompression { .enabled(DecompressionLimits()) }
}

/// A head seen by `HTTPClientConfiguration.headObserver`.
public enum HTTPHeadEvent: Sendable {
    /// The request head's bytes as written for `url` (request line, fields, the blank line).
    case request(url: HTTPURL, head: [UInt8])
    /// The final head of one hop (a redirect's, or the response's), as parsed.
    case response(url: HTTPURL, head: HTTPResponseHead)
}
