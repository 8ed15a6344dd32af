import ContentCoding
import NetCore

/// What both engines do around an exchange, decided in one place with no I/O: which request
/// goes next (redirects, `RedirectFollower`), whether a failed exchange may be sent again on a
/// new connection (the stale-connection retry, once per hop), and whether a final head is
/// acceptable (range validation, `ResponseChecks`). Which headers may go to which origin is
/// the request's `CredentialScope`, applied where the head is written (`RequestWriter`).
///
/// Each engine loops: `requestHead()`, open an exchange (retrying while `retries(after:)`
/// says so), then `decide(after:)` until it returns `.respond`.
struct RequestPlan {
    /// What to do with a final response head.
    enum Decision {
        /// A redirect: drain the body (to keep the connection), then open `request` next.
        case follow
        /// The response to give the caller.
        case respond(ResponseMetadata)
        /// The response is refused: drain the body, then throw this.
        case reject(any Error)
    }

    /// The request to send now (the original one, or the latest redirect's).
    private(set) var request: HTTPRequest
    let clock: RequestClock
    private var follower: RedirectFollower
    private let userAgent: String
    private let decompression: HTTPDecompression
    private let proxies: ProxySettings?
    private let expectContinueTimeout: Duration
    private var retriedThisHop = false
    private let headObserver: (@Sendable (HTTPHeadEvent) -> Void)?
    /// The request's debug entries (nil logger, no calls, when debug is off).
    private(set) var log: RequestLog
    /// The client's metrics, nil when it has none.
    let metrics: ClientMetrics?
    /// When the request started, for the whole-request timer.
    let started = ContinuousClock.now

    /// Starts the request's clock (its total timeout runs from here).
    init(_ request: HTTPRequest, configuration: HTTPClientConfiguration, metrics: ClientMetrics? = nil) {
        self.metrics = metrics
        self.request = request
        if let netrc = configuration.netrc {
            self.request.credential = Self.credential(for: request, from: netrc)
        }
        clock = RequestClock(configuration)
        headObserver = configuration.headObserver
        follower = RedirectFollower(
            firstURL: request.url, limit: configuration.maxRedirects,
            allowsInsecureRedirects: configuration.allowInsecureRedirects)
        userAgent = configuration.userAgent
        decompression = configuration.decompression
        proxies = configuration.proxy
        expectContinueTimeout = configuration.expectContinueTimeout
        log = RequestLog(request, configuration: configuration)
    }

    /// The request's own credential, else the `.netrc` entry for its origin: looked up only for
    /// a request to the origin its scope names (a `Downloader` segment on a redirected URL
    /// carries the named URL's credential itself), and for the user a URL named without a
    /// password.
    private static func credential(for request: HTTPRequest, from netrc: Netrc) -> HTTPCredential? {
        if let own = request.credential, !own.password.isEmpty { return own }
        guard request.credentialScope.origin == HTTPOrigin(request.url), request.headers.first("Authorization") == nil else {
            return request.credential
        }
        return netrc.credential(forHost: request.url.host, login: request.credential?.user) ?? request.credential
    }

    /// The head bytes of `request`. - Throws: `HTTPClientError.invalidRequest`.
    func requestHead() throws -> [UInt8] {
        // A range counts encoded bytes: ask for the identity coding there.
        let decodes = decompression != .disabled && request.range == nil
        // Without proxies (the common case) no route is worked out per request.
        let forwarding = proxies == nil ? nil : route.forwardsRequests ? route.proxy : nil
        let head = try RequestWriter.head(
            for: request, userAgent: userAgent, acceptEncoding: decodes ? ContentCoding.acceptEncoding : nil,
            forwardingProxy: forwarding)
        headObserver?(.request(url: request.url, head: head))
        return head
    }

    /// How `request`'s connection is made (straight, or through which proxy).
    var route: ConnectRoute { ConnectRoute(to: request.url, settings: proxies) }

    /// Where `request` goes in a pool (for the loop engine, per `loop`).
    func poolKey(loop: Loop?) -> PoolKey { PoolKey(request.url, loop: loop, proxy: proxies?.proxy(for: request.url)) }

    /// The exchange machine for `request` on the leased connection.
    func machine<Stream>(
        head: [UInt8], on lease: ConnectionLease<HTTPConnection<Stream>>,
        limits: HTTPParserLimits
    ) -> HTTPExchangeMachine {
        HTTPExchangeMachine(
            request: request, head: head, reused: lease.wasReused, buffer: lease.connection.buffer,
            clock: clock, limits: limits, continueTimeout: expectContinueTimeout)
    }

    /// A reader of `request`'s streamed body for one exchange (a file is read again from its
    /// start after a 307/308); nil without one.
    func bodyReader() -> (any RequestBodyReader)? { request.streamingBody?.makeReader() }

    /// A lease for the next exchange: logged, its set-up timed, its bytes counted.
    func noteCheckedOut<Stream>(_ lease: ConnectionLease<HTTPConnection<Stream>>) {
        log.checkedOut(reused: lease.wasReused, setup: lease.connection.setup)
        if log.logger != nil { lease.log = log }
        if let metrics {
            lease.metrics = metrics
            if !lease.wasReused { metrics.connected(lease.connection.setup) }
        }
    }

    /// No connection could be made.
    func noteConnectFailed(_ error: any Error) {
        log.connectFailed(error)
        metrics?.connectFailed(error)
    }

    /// The request failed before a final head was given to the caller.
    func noteFailed() { metrics?.failed() }

    /// The final response's exchange: its end stops the whole-request timer.
    func noteFinal<Stream>(_ lease: ConnectionLease<HTTPConnection<Stream>>) {
        if metrics != nil { lease.requestStarted = started }
    }

    /// Whether an exchange that failed (`retryable` as the machine said) is sent again on a new
    /// connection: once per hop, so a server that closes every connection fails the request.
    mutating func retries(after retryable: Bool) -> Bool {
        guard retryable, !retriedThisHop else { return false }
        retriedThisHop = true
        log.debug(
            "retry on a new connection",
            ["http.retry.reason": "the reused connection closed before any byte of the response"])
        log.nextAttempt(origin: HTTPOrigin(request.url))
        metrics?.retried("stale_connection")
        return true
    }

    /// The coding of a final head's body, nil for none, or for a response that has no body
    /// (to HEAD, 204, 304: RFC 9110 §6.4.1), whatever its Content-Encoding says.
    /// - Throws: `HTTPClientError.decoding(.unsupported)` for a coding there is no decoder for.
    private static func coding(of head: HTTPResponseHead, method: String) throws -> ContentCoding? {
        guard method != "HEAD", head.status != 204, head.status != 304, !head.headers["Content-Encoding"].isEmpty else { return nil }
        do {
            return try ContentCoding.of(contentEncoding: head.headers["Content-Encoding"].joined(separator: ","))
        } catch {
            throw HTTPClientError.decoding(error)
        }
    }

    /// Decides on a final head. - Throws: the redirect errors of `RedirectFollower.nextRequest`
    /// (the exchange is then dropped, which closes its connection).
    /// - Parameter timings: the exchange's (`HTTPExchangeMachine.timings(setup:)`), carried on the metadata.
    mutating func decide(after head: HTTPResponseHead, timings: RequestTimings = RequestTimings()) throws -> Decision {
        headObserver?(.response(url: request.url, head: head))
        if let next = try follower.nextRequest(after: head, for: request) {
            log.debug("redirect", ["http.status": "\(head.status)", "http.redirect.to": "\(next.url)"])
            request = next
            retriedThisHop = false
            log.nextAttempt(origin: HTTPOrigin(next.url))
            return .follow
        }
        do {
            if head.status == 407, proxies != nil, route.forwardsRequests, let proxy = route.proxy {
                // The proxy's answer, not the origin's: say so rather than hand it on as content.
                throw HTTPClientError.proxy(.authenticationRequired(proxy: proxy.description, hadCredentials: proxy.credential != nil))
            }
            let range = try ResponseChecks.contentRange(of: head, for: request)
            var metadata = ResponseMetadata(
                head: head, url: request.url, redirects: follower.chain, contentRange: range, rangeRequested: request.range != nil)
            metadata.timings = timings
            metrics?.responded(status: head.status, timings: timings)
            if case .enabled(let limits) = decompression, let coding = try Self.coding(of: head, method: request.method) {
                guard request.range == nil else { throw HTTPClientError.encodedRange(coding) }
                metadata.decoding = (coding, limits)
            }
            return .respond(metadata)
        } catch {
            return .reject(error)
        }
    }
}

/// What both engines' responses say about themselves besides the body: the final head (after
/// redirects), where it came from, and the validated range of a 206.
public struct ResponseMetadata: Sendable {
    /// The final response's status line and fields, as the parser read them.
    public var head: HTTPResponseHead
    /// The URL that answered (the last redirect's target, or the request's URL).
    public var url: HTTPURL
    /// Every redirect followed, in order.
    public var redirects: [HTTPURL]
    /// A 206's Content-Range, checked against the request's range.
    public var contentRange: ContentRange?
    /// Whether the request asked for a range.
    public var rangeRequested: Bool
    /// How long the final response's lookup, connect, TLS handshake and first byte took
    /// (`RequestTimings`: per phase; zero set-up on a reused connection).
    public var timings = RequestTimings()

    /// The final response's status code (`head.status`).
    public var status: Int { head.status }
    /// The final response's header fields (`head.headers`).
    public var headers: HTTPHeaders { head.headers }
    /// True when a range was asked for but the server sent the whole resource (200): a resumer
    /// must start from zero, never append.
    public var rangeIgnored: Bool { rangeRequested && contentRange == nil && head.status == 200 }
    /// The content coding the body is decoded from as it is read (`HTTPClientConfiguration.decompression`);
    /// nil when the body comes as sent.
    public var decodedCoding: ContentCoding? { decoding?.coding }
    /// The body's length as the reader will see it: the announced Content-Length, or nil when
    /// it is unknown, including a decoded body (the Content-Length counts encoded bytes).
    public var bodyLength: Int? { decoding == nil ? head.contentLength : nil }
    var decoding: (coding: ContentCoding, limits: DecompressionLimits)?

    /// The decoding the body needs, nil when it comes as sent.
    /// - Throws: `HTTPClientError.decoding` when the library cannot start (out of memory).
    func makeDecoding() throws -> BodyDecoding? {
        guard let decoding else { return nil }
        do { return BodyDecoding(try ContentDecoder(decoding.coding, limits: decoding.limits)) } catch {
            throw HTTPClientError.decoding(error)
        }
    }
}
