import NetCore
import NetTLS
import Workers

/// The steps that make a connection as a `ConnectRoute` says, decided with no I/O: where the
/// TCP connection goes, then TLS to an https proxy, the lookup a `socks5://` tunnel needs, the
/// tunnel handshake, and TLS to an https origin; with the one deadline they share and the
/// timings they take. Each engine's connect function is a short loop doing the I/O that
/// `next()` names, so the order, the deadline and the timings cannot drift between them.
struct ConnectSteps {
    /// Where the first connection goes.
    enum FirstHop {
        /// A Unix socket (`http+unix`, `https+unix`).
        case unixSocket(SocketAddress)
        /// An IP literal: no lookup, so no resolver thread.
        case address(SocketAddress)
        /// A name, connected Happy Eyeballs style, its lookup counted against the deadline.
        case name(host: String, port: UInt16)
    }

    /// What to do next over the stream made so far.
    enum Step {
        /// A TLS handshake with `context`, verifying `serverName`.
        case tls(TLSContext, serverName: String)
        /// Look up the origin's addresses here (a `socks5://` proxy is given an address); the
        /// driver hands them to `lookedUp(_:)`.
        case lookUp(host: String, port: UInt16)
        /// The tunnel handshake (CONNECT or SOCKS5).
        case tunnel(ProxyHandshake)
    }

    /// The stages in order; `stage` is the last one that ran.
    private enum Stage: Int {
        case connected, proxyTLS, lookUp, tunnel, originTLS, ready
    }

    let route: ConnectRoute
    /// The TLS context for a route that needs one (nil: plain).
    let context: TLSContext?
    /// One deadline for every step (nil: no limit).
    let deadline: ContinuousClock.Instant?
    private let happyEyeballs: HappyEyeballs
    private var stage = Stage.connected
    private var watch = PhaseStopwatch()
    /// What the steps took so far.
    private(set) var timings = RequestTimings()
    private var tunnelAddress: [UInt8]?

    /// - Parameter limit: the connect timeout, from now (nil: none).
    init(_ route: ConnectRoute, context: TLSContext?, limit: Duration?, happyEyeballs: HappyEyeballs) {
        self.route = route
        self.context = context
        deadline = limit.map { ContinuousClock.now + $0 }
        self.happyEyeballs = happyEyeballs
    }

    /// What is left of the deadline: the timeout for the step about to run.
    var timeLeft: Duration? { ConnectRoute.left(until: deadline) }

    /// Where the TCP (or Unix socket) connection goes. - Throws: `NetError` for a bad socket path.
    func firstHop() throws -> FirstHop {
        if let path = route.unixSocketPath { return .unixSocket(try SocketAddress(unixPath: path)) }
        let (host, port) = route.firstHop
        if let address = try? SocketAddress(ip: host, port: port) { return .address(address) }
        return .name(host: host, port: port)
    }

    /// The first connection is up; `resolvedAt` is when its name was resolved
    /// (`MonotonicClock` nanoseconds; nil for no lookup).
    mutating func connected(resolvedAt: Int64?) {
        if let resolvedAt { timings.nameLookup = watch.lap(at: resolvedAt) }
        timings.connect = watch.lap()
    }

    /// The origin's addresses, from the driver's `.lookUp`.
    mutating func lookedUp(_ found: [SocketAddress]) {
        tunnelAddress = ConnectRoute.tunnelAddress(found, happyEyeballs: happyEyeballs)
        timings.nameLookup += watch.lap()
    }

    /// The next step, after counting the time of the one that ran before it; nil once the
    /// connection is ready (then `timings` is complete).
    mutating func next() -> Step? {
        switch stage {
        case .connected, .lookUp, .ready: break  // counted by `connected` and `lookedUp`
        case .proxyTLS: timings.tlsHandshake = watch.lap()
        case .tunnel: timings.connect += watch.lap()
        case .originTLS: timings.tlsHandshake = (timings.tlsHandshake ?? .zero) + watch.lap()
        }
        var candidate = stage
        while let following = Stage(rawValue: candidate.rawValue + 1) {
            candidate = following
            if let step = step(for: candidate) {
                stage = candidate
                return step
            }
        }
        stage = .ready
        return nil
    }

    /// The step a stage runs, nil when the route skips it.
    private func step(for stage: Stage) -> Step? {
        switch stage {
        case .connected, .ready:
            return nil
        case .proxyTLS:
            guard route.tlsToProxy, let context, let proxy = route.proxy else { return nil }
            return .tls(context, serverName: proxy.host)
        case .lookUp:
            guard route.needsTunnel, route.resolvesLocally else { return nil }
            return .lookUp(host: route.origin.host, port: route.origin.port)
        case .tunnel:
            guard route.needsTunnel else { return nil }
            return route.handshake(resolvedAddress: tunnelAddress).map { .tunnel($0) }
        case .originTLS:
            guard route.origin.usesTLS, let context else { return nil }
            return .tls(context, serverName: route.origin.host)
        }
    }
}
