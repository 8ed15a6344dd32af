import Logging
import Synchronization

/// What one request tells its `Logger` (issue 16 point 2), shared by both engines: look-up,
/// connect and TLS times, pool check-out and return, redirects, retries and their reasons.
///
/// Every entry is at debug level and carries the request's metadata: `http.request.id` (a
/// number unique in the process), `http.method`, `http.origin` and `http.attempt` (1, then
/// one more per retry or redirect hop). Made once per request: when the logger's level is above
/// `.debug`, `logger` is nil and no entry costs more than that nil check.
///
/// Thread rule: the thread that runs the request (the loop's, or a worker's); a copy may go to
/// a connection lease, which logs on the same thread.
struct RequestLog {
    /// nil when debug entries are off: nothing below makes a log call then.
    private(set) var logger: Logger?
    private var attempt = 1

    private static let nextRequestID = Atomic<UInt64>(1)

    init(_ request: HTTPRequest, configuration: HTTPClientConfiguration) {
        let chosen = request.logger ?? configuration.logger
        guard chosen.logLevel <= .debug else { return }
        var logger = chosen
        logger[metadataKey: "http.request.id"] = "\(Self.nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue)"
        logger[metadataKey: "http.method"] = "\(request.method)"
        logger[metadataKey: "http.origin"] = "\(HTTPOrigin(request.url))"
        logger[metadataKey: "http.attempt"] = "1"
        self.logger = logger
    }

    /// One debug entry. Inlined, so an off logger costs a nil check and no closure.
    @inline(__always)
    func debug(_ message: @autoclosure () -> Logger.Message, _ metadata: @autoclosure () -> Logger.Metadata = [:]) {
        guard let logger else { return }
        logger.debug(message(), metadata: metadata())
    }

    /// The next attempt (a retry or a redirect hop) of the same request, with its origin.
    mutating func nextAttempt(origin: HTTPOrigin) {
        guard logger != nil else { return }
        attempt += 1
        logger?[metadataKey: "http.attempt"] = "\(attempt)"
        logger?[metadataKey: "http.origin"] = "\(origin)"
    }

    /// A lease of a pooled connection, idle or new; for a new one, how its set-up went.
    func checkedOut(reused: Bool, setup: RequestTimings?) {
        guard logger != nil else { return }
        guard !reused, let setup else {
            debug("pool check-out", ["http.connection.reused": "true"])
            return
        }
        if setup.nameLookup > .zero { debug("resolved", ["http.duration.ms": "\(Self.ms(setup.nameLookup))"]) }
        debug("connected", ["http.duration.ms": "\(Self.ms(setup.connect))"])
        if let tls = setup.tlsHandshake { debug("TLS handshake done", ["http.duration.ms": "\(Self.ms(tls))"]) }
        debug("pool check-out", ["http.connection.reused": "false"])
    }

    /// A connection that could not be made.
    func connectFailed(_ error: any Error) {
        debug("connect failed", ["error": "\(error)"])
    }

    /// The connection went back to the pool (`reused`: kept for the next request) or closed.
    func returned(keptAlive: Bool) {
        debug(keptAlive ? "pool return: kept alive" : "pool return: closed")
    }

    static func ms(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return "\(micros / 1000).\(String(micros % 1000 + 1000).dropFirst())"
    }
}
