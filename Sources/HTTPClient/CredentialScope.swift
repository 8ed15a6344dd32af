/// An origin (RFC 6454): scheme, host and port. Credentials belong to one.
public struct HTTPOrigin: Sendable, Hashable, CustomStringConvertible {
    /// The URL's scheme, lower-case ("http", "https", "http+unix", "https+unix").
    public let scheme: String
    /// The host, lower-case, an IPv6 literal without brackets ("localhost" for a Unix socket).
    public let host: String
    /// The port, the scheme's default when the URL named none.
    public let port: UInt16
    /// The Unix socket of an `http+unix`/`https+unix` origin: two sockets are two origins.
    public let unixSocketPath: String?

    /// The origin of `url` (its path, query and credential play no part).
    public init(_ url: HTTPURL) {
        scheme = url.scheme
        host = url.host
        port = url.port
        unixSocketPath = url.unixSocketPath
    }

    /// `scheme://host:port` (port always shown, IPv6 bracketed), or `scheme://unix:PATH`.
    public var description: String {
        if let unixSocketPath { return "\(scheme)://unix:\(unixSocketPath)" }
        let name = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(name):\(port)"
    }
}

/// Which request headers may go to which origin: the one rule the loop engine, the workers
/// engine and `Downloader` share, applied where a request head is written (`RequestWriter`),
/// so a redirect hop, a segment, a retry and a resumed run all obey it alike.
///
/// Headers that carry credentials (`Authorization`, `Cookie`, `Proxy-Authorization`, and any
/// name the caller adds) are sent only to `origin`, the origin the user named; to every other
/// origin they are left out, unless `trustsEveryOrigin` (curl's `--location-trusted`). Other
/// headers go everywhere.
public struct CredentialScope: Sendable, Equatable {
    /// The names (lower-case) that carry credentials unless told otherwise.
    public static let defaultNames: Set<String> = ["authorization", "cookie", "proxy-authorization"]

    /// The origin the credentials were given for.
    public var origin: HTTPOrigin
    /// Lower-case header names that carry credentials.
    public var names: Set<String>
    /// Send them to any origin (curl's `--location-trusted`). Off by default.
    public var trustsEveryOrigin: Bool

    /// - Parameters:
    ///   - url: the URL the user named; its origin keeps the credentials.
    ///   - extraNames: more header names that carry credentials (any case).
    ///   - trustsEveryOrigin: send them everywhere (an explicit opt-in).
    public init(for url: HTTPURL, extraNames: some Sequence<String> = [String](), trustsEveryOrigin: Bool = false) {
        origin = HTTPOrigin(url)
        names = Self.defaultNames.union(extraNames.map { $0.lowercased() })
        self.trustsEveryOrigin = trustsEveryOrigin
    }

    /// Whether a header named `name` may be sent to `url`.
    public func allows(_ name: String, to url: HTTPURL) -> Bool {
        if trustsEveryOrigin || HTTPOrigin(url) == origin { return true }
        return !names.contains(name.lowercased())
    }

    /// Whether every header may go to `url` (the common case: no filtering to do).
    func allowsEverything(to url: HTTPURL) -> Bool {
        trustsEveryOrigin || HTTPOrigin(url) == origin
    }
}
