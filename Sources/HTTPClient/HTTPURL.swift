import NetCore

/// An absolute `http` or `https` URL, checked when it is made: the parts a request needs
/// (scheme, host, port, path and query), never a fragment.
///
/// `http+unix://` and `https+unix://` (AsyncHTTPClient's spelling) name a Unix domain socket
/// instead of a host: the authority is the socket's path, percent-encoded
/// (`http+unix://%2Frun%2Fapp.sock/status`). Such a URL's `host` is "localhost" (the Host
/// header, and for https+unix the name its certificate must hold) and `unixSocketPath` the path.
///
/// Parsing is strict where a loose parser would let a bad URL smuggle bytes into the request
/// line or Host header: control characters are refused, spaces and non-ASCII bytes in the
/// path are percent-encoded, the host must be a valid name or a bracketed IPv6 literal.
public struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    /// "http", "https", "http+unix" or "https+unix".
    public let scheme: String
    /// Lower-cased host name or IP literal, without brackets.
    public let host: String
    /// The port, 1-65535: the URL's, or the scheme's default (80; 443 for https and https+unix).
    public let port: UInt16
    /// Path and query, as sent in the request line ("/" at least).
    public let target: String
    /// The userinfo ("user:password@"), percent-decoded, if the URL has one. It is sent as
    /// Basic authentication to this URL's origin only (`HTTPRequest.credential`), and never
    /// shown: `description` and `authority` leave it out.
    public let credential: HTTPCredential?
    /// The Unix socket an `http+unix`/`https+unix` URL names (decoded); nil for http and https.
    public let unixSocketPath: String?

    /// The schemes this client speaks.
    static let schemes: Set<String> = ["http", "https", "http+unix", "https+unix"]

    /// Parses an absolute URL.
    /// - Throws: `HTTPClientError.invalidURL` naming what is wrong, or `.unsupportedScheme`.
    /// The scheme is matched case-insensitively ("HTTPS://" is https), as RFC 3986 §3.1 says.
    public init(_ text: String) throws {
        try self.init(encoded: Self.percentEncodingNonASCII(text), original: text)
    }

    /// Parses `text`, already without raw non-ASCII bytes; errors name `original`.
    private init(encoded text: String, original: String) throws {
        // "host:port/path" has a scheme by the grammar, but a user who typed it meant a
        // host: without "//" it is "not absolute", whatever precedes the colon.
        guard let schemeText = Self.scheme(of: text[...]),
            case let afterColon = text[text.index(after: schemeText.endIndex)...], afterColon.hasPrefix("//")
        else {
            throw HTTPClientError.invalidURL(original, reason: "not an absolute URL (expected scheme://host/path)")
        }
        let scheme = schemeText.lowercased()
        guard Self.schemes.contains(scheme) else {
            throw HTTPClientError.unsupportedScheme(scheme)
        }
        try self.init(scheme: scheme, afterScheme: afterColon.dropFirst(2), original: original)
    }

    /// Every byte from 0x80 up as %XX, before any delimiter is looked for. Swift compares
    /// Characters, and a combining mark after "/", "?", "#" or "." joins it into one Character
    /// that is none of them: "./\u{335}" would keep a dot segment, "#\u{301}" a fragment in
    /// the target. The path and query get these bytes percent-encoded anyway; userinfo and a
    /// socket path are percent-decoded, so they come out the same.
    private static func percentEncodingNonASCII(_ text: some StringProtocol) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 }) else { return String(text) }
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            if byte >= 0x80 { bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]] } else { bytes.append(byte) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The scheme of a URI reference, if it has one: RFC 3986 §3.1 and §4.3, scheme =
    /// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by ":". A colon later in the
    /// reference ("/login?next=https://x/") does not make a scheme.
    static func scheme(of reference: Substring) -> Substring? {
        guard let first = reference.utf8.first, first | 0x20 >= 0x61, first | 0x20 <= 0x7A else { return nil }
        for index in reference.utf8.indices.dropFirst() {
            switch reference.utf8[index] {
            case UInt8(ascii: ":"): return reference[..<index]
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."): continue
            default: return nil
            }
        }
        return nil
    }

    private init(scheme: String, afterScheme rest: Substring, original: String) throws {
        if let bad = original.utf8.first(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw HTTPClientError.invalidURL(original, reason: "control character 0x\(String(bad, radix: 16)) in the URL")
        }
        let withoutFragment = rest.prefix { $0 != "#" }
        let authorityEnd = withoutFragment.firstIndex { $0 == "/" || $0 == "?" } ?? withoutFragment.endIndex
        var authority = withoutFragment[..<authorityEnd]
        var target = String(withoutFragment[authorityEnd...])
        if target.isEmpty || target.first == "?" { target = "/" + target }
        if scheme.hasSuffix("+unix") {
            self.scheme = scheme
            host = "localhost"
            port = scheme == "https+unix" ? 443 : 80
            self.target = Self.percentEncodingUnsafeBytes(target)
            credential = nil
            unixSocketPath = try Self.socketPath(authority, original: original)
            return
        }
        // The last "@" ends the userinfo: one inside it must be percent-encoded (RFC 3986 §3.2.1).
        var credential: HTTPCredential?
        if let at = authority.lastIndex(of: "@") {
            credential = try Self.parseUserinfo(authority[..<at], original: original)
            authority = authority[authority.index(after: at)...]
        }
        let (host, port) = try Self.parseAuthority(authority, defaultPort: scheme == "https" ? 443 : 80, original: original)
        self.scheme = scheme
        self.host = host
        self.port = port
        self.target = Self.percentEncodingUnsafeBytes(target)
        self.credential = credential
        unixSocketPath = nil
    }

    private init(
        scheme: String, host: String, port: UInt16, target: String, credential: HTTPCredential? = nil, unixSocketPath: String? = nil
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.target = target
        self.credential = credential
        self.unixSocketPath = unixSocketPath
    }

    /// The socket path of a `+unix` URL's authority, percent-decoded and checked.
    private static func socketPath(_ authority: Substring, original: String) throws -> String {
        let path = try percentDecoded(authority, original: original, part: "the socket path", notUTF8: "a socket path that is not UTF-8")
        guard !path.isEmpty else {
            throw HTTPClientError.invalidURL(original, reason: "no socket path (expected http+unix://%2Fpath%2Fto.sock/target)")
        }
        guard !path.utf8.contains(0) else { throw HTTPClientError.invalidURL(original, reason: "a NUL byte in the socket path") }
        guard path.utf8.count <= SocketAddress.maxUnixPathLength else {
            throw HTTPClientError.invalidURL(
                original,
                reason: "the socket path has \(path.utf8.count) bytes; a Unix socket path holds at most \(SocketAddress.maxUnixPathLength)")
        }
        return path
    }

    /// True for https and https+unix.
    public var usesTLS: Bool { scheme == "https" || scheme == "https+unix" }

    /// This URL without its userinfo: what a redirect target becomes (a server does not choose
    /// the credentials the client sends) and what loop detection compares.
    public var withoutCredential: HTTPURL {
        credential == nil ? self : HTTPURL(scheme: scheme, host: host, port: port, target: target, unixSocketPath: unixSocketPath)
    }

    /// "user:password" (either part percent-encoded, the password optional) as a credential;
    /// nil for an empty userinfo ("http://@host/").
    private static func parseUserinfo(_ userinfo: Substring, original: String) throws -> HTTPCredential? {
        guard !userinfo.isEmpty else { return nil }
        let colon = userinfo.firstIndex(of: ":")
        let user = try percentDecoded(userinfo[..<(colon ?? userinfo.endIndex)], original: original)
        let password = try colon.map { try percentDecoded(userinfo[userinfo.index(after: $0)...], original: original) } ?? ""
        do {
            return try HTTPCredential(user: user, password: password)
        } catch HTTPClientError.invalidRequest(let detail) {
            throw HTTPClientError.invalidURL(original, reason: "bad credentials in the URL: \(detail)")
        }
    }

    /// `text` with every %XX decoded. - Throws: `.invalidURL` for a bad escape or bytes that are
    /// not UTF-8.
    private static func percentDecoded(
        _ text: Substring, original: String, part: String = "the credentials", notUTF8: String = "credentials that are not UTF-8"
    ) throws -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            // Two bytes follow: the count is checked first, so neither popFirst() is nil.
            guard utf8.count >= 2, let high = hexValue(utf8.popFirst()!), let low = hexValue(utf8.popFirst()!) else {
                throw HTTPClientError.invalidURL(original, reason: "a bad %-escape in \(part)")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw HTTPClientError.invalidURL(original, reason: notUTF8)
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Whether the port is the scheme's default (80, or 443 with TLS).
    public var isDefaultPort: Bool { port == (usesTLS ? 443 : 80) }

    /// The Host header's value: the host (bracketed if IPv6) and the port unless it is the default.
    public var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return isDefaultPort ? name : "\(name):\(port)"
    }

    /// True for an IPv4 or IPv6 literal (no SNI is sent for these; the certificate must name the IP).
    public var hostIsIPLiteral: Bool {
        host.contains(":") || (!host.isEmpty && host.allSatisfy { $0.isNumber || $0 == "." } && host.split(separator: ".").count == 4)
    }

    /// The path without the query.
    public var path: String { String(target.prefix { $0 != "?" }) }

    /// The URL as a request would name it: scheme, authority (for `+unix`, the socket path
    /// percent-encoded) and target; never the credential.
    public var description: String {
        guard let unixSocketPath else { return "\(scheme)://\(authority)\(target)" }
        return "\(scheme)://\(Self.percentEncodingSocketPath(unixSocketPath))\(target)"
    }

    /// A socket path as a `+unix` authority: every byte but letters, digits and "-._~" as %XX.
    private static func percentEncodingSocketPath(_ path: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in path.utf8 {
            let unreserved =
                (0x30...0x39).contains(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2D || byte == 0x2E
                || byte == 0x5F || byte == 0x7E
            if unreserved { bytes.append(byte) } else { bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]] }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Resolves a reference (a redirect's Location) against this URL, as RFC 3986 §5.2 does.
    /// - Throws: `HTTPClientError.invalidURL` / `.unsupportedScheme` for a bad reference.
    public func resolving(_ reference: String) throws -> HTTPURL {
        let encoded = Self.percentEncodingNonASCII(reference)
        let trimmed = encoded.prefix { $0 != "#" }
        // Only a reference that starts with a scheme is absolute (RFC 3986 §4.3); "://" in a
        // query or path ("/login?next=https://x/") is just data.
        if let referenceScheme = Self.scheme(of: trimmed) {
            let lowered = referenceScheme.lowercased()
            // A server on the network must not send a client to a socket on its own machine.
            guard Self.schemes.contains(lowered), unixSocketPath != nil || !lowered.hasSuffix("+unix") else {
                throw HTTPClientError.unsupportedScheme(lowered)
            }
            return try HTTPURL(encoded: String(trimmed), original: reference)
        }
        if trimmed.hasPrefix("//") {
            return try HTTPURL(scheme: scheme, afterScheme: trimmed.dropFirst(2), original: reference)
        }
        if let bad = reference.utf8.first(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw HTTPClientError.invalidURL(reference, reason: "control character 0x\(String(bad, radix: 16)) in the URL")
        }
        let newTarget: String
        if trimmed.isEmpty {
            newTarget = target
        } else if trimmed.hasPrefix("/") {
            newTarget = Self.removingDotSegments(String(trimmed))
        } else if trimmed.hasPrefix("?") {
            newTarget = path + trimmed
        } else {
            let directory = path.prefix(through: path.lastIndex(of: "/") ?? path.startIndex)
            newTarget = Self.removingDotSegments(String(directory) + String(trimmed))
        }
        return HTTPURL(
            scheme: scheme, host: host, port: port, target: Self.percentEncodingUnsafeBytes(newTarget), unixSocketPath: unixSocketPath)
    }

    // MARK: - Parts

    private static func parseAuthority(_ authority: Substring, defaultPort: UInt16, original: String) throws -> (String, UInt16) {
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw HTTPClientError.invalidURL(original, reason: "unclosed '[' in the IPv6 host")
            }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw HTTPClientError.invalidURL(original, reason: "unexpected text after the IPv6 host") }
                portPart = after.dropFirst()
            }
            guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw HTTPClientError.invalidURL(original, reason: "invalid IPv6 address")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw HTTPClientError.invalidURL(original, reason: "no host") }
        if !authority.hasPrefix("[") {
            let allowed = hostPart.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2D || byte == 0x2E
                    || byte == 0x5F
            }
            guard allowed else {
                throw HTTPClientError.invalidURL(original, reason: "invalid host name \(String(hostPart).debugDescription)")
            }
        }
        var port = defaultPort
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(portPart), (1...65535).contains(value)
            else {
                throw HTTPClientError.invalidURL(original, reason: "invalid port \(String(portPart).debugDescription) (1-65535)")
            }
            port = UInt16(value)
        }
        return (hostPart.lowercased(), port)
    }

    /// Spaces and non-ASCII bytes become %XX; everything else is kept as the user wrote it.
    private static func percentEncodingUnsafeBytes(_ target: String) -> String {
        guard target.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F || $0 == 0x22 || $0 == 0x3C || $0 == 0x3E }) else { return target }
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in target.utf8 {
            if byte <= 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x3C || byte == 0x3E {
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// RFC 3986 §5.2.4 on the path; the query is kept as it is.
    private static func removingDotSegments(_ target: String) -> String {
        let path = target.prefix { $0 != "?" }
        let query = target[path.endIndex...]
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            switch segment {
            case ".":
                if isLast { output.append("") }
            case "..":
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append("") }
            default:
                output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/") + query
    }
}
