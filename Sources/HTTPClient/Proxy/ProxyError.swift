/// Why a proxy did not carry a request.
public enum ProxyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 407: the proxy wants credentials (none were given, or it refused them).
    case authenticationRequired(proxy: String, hadCredentials: Bool)
    /// The proxy answered the CONNECT with another status (403 forbidden, 502 the origin is
    /// unreachable from the proxy, ...).
    case refused(proxy: String, status: Int, reason: String)
    /// The proxy's reply is not HTTP or SOCKS5 as it should be.
    case malformedReply(proxy: String, String)
    /// The proxy closed the connection during the handshake.
    case closedDuringHandshake(proxy: String)
    /// The SOCKS5 proxy accepts none of the offered methods (it wants credentials, or others).
    case socksMethodRefused(proxy: String, offeredCredentials: Bool)
    /// The SOCKS5 proxy refused the user name and password (RFC 1929).
    case socksAuthenticationFailed(proxy: String)
    /// The SOCKS5 proxy could not connect (RFC 1928 §6 reply code).
    case socksFailure(proxy: String, code: UInt8)
    /// A SOCKS5 name is at most 255 bytes.
    case socksNameTooLong(String)

    /// One line for a person: which proxy, what it did, and for a 407 what to do.
    public var description: String {
        switch self {
        case .authenticationRequired(let proxy, let had):
            return had
                ? "the proxy \(proxy) refused the credentials (407 Proxy Authentication Required)"
                : "the proxy \(proxy) wants credentials (407 Proxy Authentication Required): put them in the proxy URL, user:password@host"
        case .refused(let proxy, let status, let reason):
            return "the proxy \(proxy) refused the tunnel: \(status) \(reason)".trimmingTrailingSpace
        case .malformedReply(let proxy, let detail): return "bad reply from the proxy \(proxy): \(detail)"
        case .closedDuringHandshake(let proxy): return "the proxy \(proxy) closed the connection during the handshake"
        case .socksMethodRefused(let proxy, let offered):
            return offered
                ? "the SOCKS5 proxy \(proxy) accepts neither no authentication nor user/password"
                : "the SOCKS5 proxy \(proxy) wants credentials: put them in the proxy URL, user:password@host"
        case .socksAuthenticationFailed(let proxy): return "the SOCKS5 proxy \(proxy) refused the user name and password"
        case .socksFailure(let proxy, let code):
            let reasons = [
                1: "general failure", 2: "connection not allowed by ruleset", 3: "network unreachable", 4: "host unreachable",
                5: "connection refused", 6: "TTL expired", 7: "command not supported", 8: "address type not supported",
            ]
            return "the SOCKS5 proxy \(proxy) could not connect: \(reasons[Int(code)] ?? "reply code \(code)")"
        case .socksNameTooLong(let name): return "the host name \(name.prefix(40))... is longer than SOCKS5's 255 bytes"
        }
    }

    /// Whether trying again may help: the proxy's link to the origin failed, or it dropped us.
    public var isTransient: Bool {
        switch self {
        case .refused(_, let status, _): return status == 502 || status == 503 || status == 504
        case .closedDuringHandshake: return true
        case .socksFailure(_, let code): return code == 1 || code == 3 || code == 4 || code == 6
        default: return false
        }
    }
}
