import NetCore
import Workers

/// How a connection to an origin is made, decided with no I/O: straight to it, or through a
/// proxy (and which layers: TLS to the proxy, a tunnel handshake, TLS to the origin). Both
/// engines' connect functions follow it step by step.
struct ConnectRoute: Equatable {
    let origin: HTTPURL
    let proxy: HTTPProxy?

    init(to origin: HTTPURL, settings: ProxySettings?) {
        self.origin = origin
        proxy = settings?.proxy(for: origin)
    }

    /// Where the TCP connection goes.
    var firstHop: (host: String, port: UInt16) { proxy.map { ($0.host, $0.port) } ?? (origin.host, origin.port) }

    /// TLS to the proxy itself first (an `https://` proxy): verified against the proxy's name.
    var tlsToProxy: Bool { proxy?.kind == .https }

    /// Plain HTTP through an HTTP proxy: no tunnel; requests go in absolute form with the
    /// proxy's credential (RFC 9112 §3.2.2).
    var forwardsRequests: Bool { proxy?.speaksHTTP == true && origin.scheme == "http" }

    /// Whether a tunnel handshake runs (CONNECT for https through an HTTP proxy; SOCKS5 always).
    var needsTunnel: Bool { proxy != nil && !forwardsRequests }

    /// Whether the SOCKS5 proxy gets an address resolved here (`socks5://`) rather than the name.
    var resolvesLocally: Bool { proxy?.kind == .socks5 && !origin.hostIsIPLiteral }

    /// For `socks5://`, the address bytes the proxy is given: the first of `found` (the
    /// origin's addresses looked up here) in Happy Eyeballs order. Both engines' connect use it.
    static func tunnelAddress(_ found: [SocketAddress], happyEyeballs: HappyEyeballs) -> [UInt8]? {
        HappyEyeballs.order(found, families: happyEyeballs.families).first.flatMap { NoProxyList.addressBytes($0.host) }
    }

    /// The tunnel handshake to `destination` (the origin's name, or for `socks5://` the address
    /// resolved for it). Nil when no tunnel is needed.
    func handshake(resolvedAddress: [UInt8]? = nil) -> ProxyHandshake? {
        guard needsTunnel, let proxy else { return nil }
        // An IP literal goes as an address (ATYP 1 or 4) to either SOCKS kind: some proxies refuse
        // one as a name.
        if let address = resolvedAddress ?? (proxy.speaksHTTP ? nil : NoProxyList.addressBytes(origin.host)) {
            return ProxyHandshake(proxy: proxy, destination: .address(address, port: origin.port))
        }
        return ProxyHandshake(proxy: proxy, destination: .name(origin.host, port: origin.port))
    }

    /// The Unix socket the connection goes to instead of TCP (`http+unix`, `https+unix`).
    var unixSocketPath: String? { origin.unixSocketPath }

    static func == (a: ConnectRoute, b: ConnectRoute) -> Bool {
        a.proxy == b.proxy && a.origin.scheme == b.origin.scheme && a.origin.host == b.origin.host && a.origin.port == b.origin.port
            && a.origin.unixSocketPath == b.origin.unixSocketPath
    }

    /// What is left until `deadline` (nil: no limit); zero once it has passed, so the next
    /// step fails at once with its timeout instead of getting the whole limit again.
    static func left(until deadline: ContinuousClock.Instant?) -> Duration? {
        deadline.map { max(.zero, ContinuousClock.now.duration(to: $0)) }
    }
}
