#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 socket address (host and port), or a Unix domain socket's (a path, or a
/// Linux abstract name), as the kernel takes it.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Equatable {
        /// `AF_INET`: an IPv4 address and port.
        case ipv4
        /// `AF_INET6`: an IPv6 address and port (an IPv4-mapped one, `::ffff:a.b.c.d`, included).
        case ipv6
        /// `AF_UNIX`: a stream socket on this machine, named by a path or an abstract name.
        case unix
    }

    /// The longest Unix socket path, in bytes: `sun_path` holds 108 with the closing NUL.
    public static let maxUnixPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    // An IPv4 or IPv6 address is kept inline in a sockaddr_in6 (28 bytes; a sockaddr_in is its
    // first 16), a Unix one in a box: 44 bytes in all, not a 128-byte sockaddr_storage
    // (a game host keeps one per peer). The raw bytes are what is compared and hashed.
    private var inet: sockaddr_in6
    private let unix: UnixAddress?
    /// The number of meaningful bytes.
    let length: socklen_t

    /// A Unix socket address, rare enough to live on the heap.
    private final class UnixAddress: Sendable {
        let address: sockaddr_un
        init(_ address: sockaddr_un) { self.address = address }
    }

    /// Calls `body` with the meaningful bytes (`length` of them).
    private func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let unix {
            return try withUnsafeBytes(of: unix.address) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
        }
        return try withUnsafeBytes(of: inet) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
    }

    /// Parses a numeric IPv4 (`127.0.0.1`) or IPv6 (`::1`, `[::1]`) literal. No name lookup:
    /// names go through the resolver.
    /// - Throws: `NetError` of kind `.invalidAddress` for anything that is not such a literal.
    public init(ip: String, port: UInt16) throws {
        var host = ip
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr = v4
            var inet = sockaddr_in6()  // a sockaddr_in in its first 16 bytes
            withUnsafeMutableBytes(of: &inet) { raw in
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
            self.inet = inet
            unix = nil
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = v6
            inet = address
            unix = nil
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            throw NetError(
                kind: .invalidAddress, errno: 0, operation: "parse address",
                context: "'\(ip)' is not an IPv4 or IPv6 literal")
        }
    }

    /// A Unix domain socket address: the file system `path` (a socket file that a server
    /// bound), or with `abstract` a name in Linux's abstract namespace (no file; it goes when
    /// the last socket bound to it closes). No file system access here.
    /// - Throws: `NetError` of kind `.invalidAddress` for an empty path, one with a NUL byte, or
    ///   one longer than `maxUnixPathLength` bytes (the kernel cannot take it; bind and
    ///   connect to a shorter path, a symlink's or one relative to a nearer directory).
    public init(unixPath path: String, abstract: Bool = false) throws {
        let bytes = Array(path.utf8)
        let capacity = Self.maxUnixPathLength
        guard !bytes.isEmpty, !bytes.contains(0) else {
            throw NetError(
                kind: .invalidAddress, errno: 0, operation: "make a Unix socket address",
                context: "the path must be non-empty and hold no NUL byte")
        }
        guard bytes.count <= capacity else {
            throw NetError(
                kind: .invalidAddress, errno: ENAMETOOLONG, operation: "make a Unix socket address",
                context: "the path '\(path)' has \(bytes.count) bytes; a Unix socket path holds at most \(capacity)")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // An abstract name starts with a NUL byte and is exactly as long as the length says.
        let start = abstract ? 1 : 0
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: abstract ? [0] + bytes : bytes) }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2  // a stored C field: always known
        inet = sockaddr_in6()
        unix = UnixAddress(address)
        // A path's length counts its closing NUL (the kernel accepts either); an abstract name's does not.
        length = socklen_t(pathOffset + start + bytes.count + (abstract ? 0 : 1))
    }

    /// Wraps an address the kernel returned (accept, getsockname, recvfrom).
    init?(storage: sockaddr_storage, length: socklen_t) {
        let family = Int32(storage.ss_family)
        switch family {
        case AF_INET, AF_INET6:
            guard Int(length) <= MemoryLayout<sockaddr_in6>.size else { return nil }
            var inet = sockaddr_in6()
            withUnsafeMutableBytes(of: &inet) { raw in
                withUnsafeBytes(of: storage) { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
            }
            self.inet = inet
            unix = nil
        case AF_UNIX:
            guard Int(length) <= MemoryLayout<sockaddr_un>.size else { return nil }
            var address = sockaddr_un()
            withUnsafeMutableBytes(of: &address) { raw in
                withUnsafeBytes(of: storage) { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
            }
            inet = sockaddr_in6()
            unix = UnixAddress(address)
        default:
            return nil
        }
        self.length = length
    }

    /// Wraps a socket address from a C API (getaddrinfo, recvfrom); nil unless it is IPv4, IPv6
    /// or Unix.
    public init?(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        guard Int(length) <= MemoryLayout<sockaddr_storage>.size else { return nil }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length)))
        }
        self.init(storage: storage, length: length)
    }

    /// 127.0.0.1 on `port`.
    public static func loopbackIPv4(port: UInt16) -> SocketAddress {
        try! SocketAddress(ip: "127.0.0.1", port: port)  // a constant literal that always parses
    }

    /// Which kind of address this is: a Unix box, else the stored family. Cost: two loads.
    public var family: Family {
        if unix != nil { return .unix }
        return Int32(inet.sin6_family) == AF_INET6 ? .ipv6 : .ipv4
    }

    /// `AF_INET`, `AF_INET6` or `AF_UNIX`, for code that makes its own sockets (the blocking HTTP engine).
    public var addressFamily: Int32 { unix != nil ? AF_UNIX : Int32(inet.sin6_family) }

    /// The port, in host byte order; 0 for a Unix socket.
    public var port: UInt16 {
        withUnsafeBytes(of: inet) { raw in
            switch family {
            case .ipv4: return UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
            case .ipv6: return UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
            case .unix: return 0
            }
        }
    }

    /// A Unix socket's path, or its abstract name with a leading "@" (as `ss` shows it); ""
    /// for an unnamed one (a connecting client's end); nil for IPv4 and IPv6.
    public var unixPath: String? {
        guard family == .unix else { return nil }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2  // a stored C field: always known
        let count = max(0, Int(length) - pathOffset)
        return withRawBytes { raw in
            let bytes = raw[pathOffset..<(pathOffset + count)]
            if bytes.first == 0, bytes.count > 1 { return "@" + String(decoding: bytes.dropFirst(), as: UTF8.self) }
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The numeric host, without brackets (`127.0.0.1`, `::1`); a Unix socket's `unixPath`.
    public var host: String {
        if let unixPath { return unixPath }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        withUnsafeBytes(of: inet) { raw in
            switch family {
            case .unix: break
            case .ipv4:
                var address = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            case .ipv6:
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            }
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `127.0.0.1:80`, `[::1]:80`, or `unix:/run/app.sock` (`unix:@name` for an abstract name).
    public var description: String {
        switch family {
        case .ipv4: return "\(host):\(port)"
        case .ipv6: return "[\(host)]:\(port)"
        case .unix: return "unix:\(host)"
        }
    }

    /// Calls `body` with the address as the kernel takes it (for `connect`/`bind` on a socket
    /// made outside NetCore).
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        try withRawBytes { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)  // a stored value's address is never nil
        }
    }

    /// The same family, address, port (and for IPv6 flow info and scope), or the same Unix
    /// path or abstract name: the bytes the kernel would be given are compared (no allocation:
    /// a game host compares a peer's address on every datagram).
    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        guard lhs.length == rhs.length else { return false }
        return lhs.withRawBytes { a in rhs.withRawBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
    }

    /// Hashes the same bytes `==` compares.
    public func hash(into hasher: inout Hasher) {
        withRawBytes { hasher.combine(bytes: $0) }
    }
}
