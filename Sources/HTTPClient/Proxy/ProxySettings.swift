#if canImport(Glibc)
    import Glibc
#endif

/// Which proxy each request goes through: one given for every scheme (curl's `-x`), one per
/// scheme, or curl's environment variables; and the hosts that go direct (`no_proxy`).
public struct ProxySettings: Sendable, Equatable {
    /// For `http://` URLs.
    public var httpProxy: HTTPProxy?
    /// For `https://` URLs.
    public var httpsProxy: HTTPProxy?
    /// The hosts reached directly.
    public var noProxy: NoProxyList

    /// - Parameters:
    ///   - proxy: for both schemes.
    ///   - noProxy: curl's `--noproxy` list: "host,domain,.domain,IP,CIDR,host:port" or "*".
    public init(proxy: HTTPProxy?, noProxy: String = "") {
        self.init(httpProxy: proxy, httpsProxy: proxy, noProxy: noProxy)
    }

    /// One proxy per scheme (nil: direct), and curl's `--noproxy` list (see `init(proxy:noProxy:)`).
    public init(httpProxy: HTTPProxy?, httpsProxy: HTTPProxy?, noProxy: String = "") {
        self.httpProxy = httpProxy
        self.httpsProxy = httpsProxy
        self.noProxy = NoProxyList(noProxy)
    }

    /// curl's environment rules: `http_proxy` for http URLs, lower case only (a CGI program
    /// gets a client's "Proxy:" request header as `HTTP_PROXY`, "httpoxy"); `https_proxy` or
    /// `HTTPS_PROXY` for https; `all_proxy` or `ALL_PROXY` for a scheme without its own;
    /// `no_proxy` or `NO_PROXY`. An empty variable is unset.
    /// - Parameter environment: the variables; nil reads the process's.
    /// - Throws: what `HTTPProxy.init` throws for a variable that is not a proxy URL (naming it).
    public static func fromEnvironment(_ environment: [String: String]? = nil) throws -> ProxySettings {
        func value(_ names: String...) -> (name: String, value: String)? {
            for name in names {
                let text = environment.map { $0[name] } ?? getenv(name).map { String(cString: $0) }
                if let text, !text.isEmpty { return (name, text) }
            }
            return nil
        }
        func proxy(_ names: String...) throws -> HTTPProxy? {
            guard let found = names.lazy.compactMap({ value($0) }).first else { return nil }
            do { return try HTTPProxy(found.value) } catch {
                throw HTTPClientError.invalidRequest("\(found.name)=\(found.value.debugDescription) is not a proxy URL: \(error)")
            }
        }
        return ProxySettings(
            httpProxy: try proxy("http_proxy", "all_proxy", "ALL_PROXY"),
            httpsProxy: try proxy("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"),
            noProxy: value("no_proxy", "NO_PROXY")?.value ?? "")
    }

    /// The proxy for `url`, nil to connect directly.
    public func proxy(for url: HTTPURL) -> HTTPProxy? {
        // A Unix socket is on this machine: no proxy can reach it.
        guard url.unixSocketPath == nil, let proxy = url.scheme == "https" ? httpsProxy : httpProxy else { return nil }
        return noProxy.matches(host: url.host, port: url.port) ? nil : proxy
    }
}

/// curl's `no_proxy`: "*" for every host, else names and addresses separated by commas or
/// blanks. A name matches itself and every name below it ("example.com" and ".example.com"
/// both match "www.example.com"), case-insensitively; an IP matches that address, a CIDR
/// ("10.0.0.0/8", "fd00::/8") the addresses in it; "name:port" or "[v6]:port" only that port.
public struct NoProxyList: Sendable, Equatable {
    enum Entry: Sendable, Equatable {
        case everything
        case name(String, port: UInt16?)
        case network(bytes: [UInt8], prefixBits: Int, port: UInt16?)
    }

    let entries: [Entry]

    /// Parses the list; an entry that is none of the forms above (a bad port, say) is dropped,
    /// never widened to more hosts or ports.
    public init(_ text: String) {
        entries = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).compactMap(Self.entry)
    }

    private static func entry(_ text: Substring) -> Entry? {
        if text == "*" { return .everything }
        var host = text
        var port: UInt16?
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                // A port that is not one would widen the entry to every port: drop it instead.
                guard let number = UInt16(after.dropFirst()) else { return nil }
                port = number
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            guard let number = UInt16(host[host.index(after: colon)...]) else { return nil }
            port = number
            host = host[..<colon]
        }
        while host.hasSuffix(".") { host = host.dropLast() }  // "example.com." is example.com
        var prefixBits: Int?
        if let slash = host.firstIndex(of: "/") {
            prefixBits = Int(host[host.index(after: slash)...])
            host = host[..<slash]
        }
        if let bytes = addressBytes(String(host)) {
            let bits = min(prefixBits ?? bytes.count * 8, bytes.count * 8)
            return .network(bytes: bytes, prefixBits: max(0, bits), port: port)
        }
        while host.hasPrefix(".") { host = host.dropFirst() }
        return host.isEmpty ? nil : .name(host.lowercased(), port: port)
    }

    /// The 4 or 16 bytes of an IP literal, nil for a name.
    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Whether `host` (a lower-case name or an IP literal, as `HTTPURL` has it) on `port` goes direct.
    public func matches(host: String, port: UInt16) -> Bool {
        let address = Self.addressBytes(host)
        return entries.contains { entry in
            switch entry {
            case .everything:
                return true
            case .name(let name, let wanted):
                guard wanted == nil || wanted == port, address == nil else { return false }
                return host == name || host.hasSuffix("." + name)
            case .network(let bytes, let prefixBits, let wanted):
                guard wanted == nil || wanted == port, let address, address.count == bytes.count else { return false }
                return Self.samePrefix(address, bytes, bits: prefixBits)
            }
        }
    }

    private static func samePrefix(_ a: [UInt8], _ b: [UInt8], bits: Int) -> Bool {
        let whole = bits / 8
        guard a[..<whole] == b[..<whole] else { return false }
        let rest = bits % 8
        guard rest > 0 else { return true }
        let mask = UInt8(0xFF) << (8 - rest)
        return a[whole] & mask == b[whole] & mask
    }
}
