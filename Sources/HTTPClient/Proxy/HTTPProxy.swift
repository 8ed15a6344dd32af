/// A proxy to reach origins through, as curl's `-x` takes it: `http://` (plain HTTP in absolute
/// form, HTTPS through a CONNECT tunnel), `https://` (the same over TLS to the proxy),
/// `socks5://` (names resolved here) or `socks5h://` (names resolved by the proxy). Userinfo
/// in the URL is the proxy's credential (Basic for HTTP proxies, RFC 1929 for SOCKS5).
public struct HTTPProxy: Sendable, Hashable, CustomStringConvertible {
    /// How the proxy is spoken to; the raw value is the URL scheme.
    public enum Kind: String, Sendable, Hashable {
        /// Plain HTTP to the proxy: http URLs in absolute form, https ones through CONNECT.
        case http
        /// As `http`, over TLS to the proxy (verified with the client's `tls` settings).
        case https
        /// SOCKS5 (RFC 1928), the origin's name resolved here and sent as an address.
        case socks5
        /// SOCKS5 with the origin's name sent to the proxy, which resolves it.
        case socks5h
    }

    /// The protocol spoken to the proxy.
    public var kind: Kind
    /// The proxy's host name or IP literal, lower-case, IPv6 without brackets.
    public var host: String
    /// The proxy's port.
    public var port: UInt16
    /// Sent to the proxy only (Proxy-Authorization, or SOCKS5 user/password), never to an origin.
    public var credential: HTTPCredential?

    /// A proxy given by its parts; `host` is lower-cased and not otherwise checked (a bad
    /// one fails when the request connects).
    public init(kind: Kind, host: String, port: UInt16, credential: HTTPCredential? = nil) {
        self.kind = kind
        self.host = host.lowercased()
        self.port = port
        self.credential = credential
    }

    /// Parses a proxy URL. Without a scheme it is `http://`, and without a port 1080, as in
    /// curl (443 for `https://`).
    /// - Throws: `HTTPClientError.invalidURL` naming what is wrong, `.unsupportedScheme` for a
    ///   scheme that is none of the four (socks4 is not supported).
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: " \t")
        var rest = Substring(trimmed)
        var schemeText = "http"
        if let separator = trimmed.firstRange(of: "://") {
            schemeText = trimmed[..<separator.lowerBound].lowercased()
            rest = trimmed[separator.upperBound...]
        }
        guard let kind = Kind(rawValue: schemeText) else { throw HTTPClientError.unsupportedScheme(schemeText) }
        // The path of a proxy URL means nothing ("http://proxy:3128/" is common).
        let authority = rest.prefix { $0 != "/" }
        // Parse it as an http URL's authority: that checks the host, the port and the userinfo.
        let parsed = try HTTPURL("http://" + authority)
        let hostAndPort = authority.split(separator: "@").last ?? ""
        let hasPort = hostAndPort.hasPrefix("[") ? hostAndPort.contains("]:") : hostAndPort.contains(":")
        self.init(kind: kind, host: parsed.host, port: hasPort ? parsed.port : (kind == .https ? 443 : 1080), credential: parsed.credential)
    }

    /// Whether the proxy speaks HTTP (absolute-form requests and CONNECT) rather than SOCKS.
    var speaksHTTP: Bool { kind == .http || kind == .https }

    /// `kind://host:port` (IPv6 bracketed), never the credential: safe to log.
    public var description: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return "\(kind.rawValue)://\(name):\(port)"
    }
}
