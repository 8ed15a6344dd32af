#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 socket address (host and port), as the kernel takes it.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Equatable {
        case ipv4
        case ipv6
    }

    // sockaddr_storage is not Hashable; keep the raw bytes and compare those.
    private var storage: sockaddr_storage
    /// The number of meaningful bytes in `storage`.
    let length: socklen_t

    /// Parses a numeric IPv4 (`127.0.0.1`) or IPv6 (`::1`, `[::1]`) literal. No name lookup:
    /// names go through the resolver.
    /// - Throws: `NetError` of kind `.invalidAddress` for anything that is not such a literal.
    public init(ip: String, port: UInt16) throws {
        var storage = sockaddr_storage()
        var host = ip
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr = v4
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
            self.storage = storage
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = v6
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
            self.storage = storage
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            throw NetError(
                kind: .invalidAddress, errno: 0, operation: "parse address",
                context: "'\(ip)' is not an IPv4 or IPv6 literal")
        }
    }

    /// Wraps an address the kernel returned (accept, getsockname, recvfrom).
    init?(storage: sockaddr_storage, length: socklen_t) {
        guard storage.ss_family == sa_family_t(AF_INET) || storage.ss_family == sa_family_t(AF_INET6) else {
            return nil
        }
        self.storage = storage
        self.length = length
    }

    /// Wraps a socket address from a C API (getaddrinfo, recvfrom); nil unless it is IPv4 or IPv6.
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

    public var family: Family {
        storage.ss_family == sa_family_t(AF_INET6) ? .ipv6 : .ipv4
    }

    /// `AF_INET` or `AF_INET6`, for code that makes its own sockets (the blocking HTTP engine).
    public var addressFamily: Int32 { Int32(storage.ss_family) }

    /// The port, in host byte order.
    public var port: UInt16 {
        withUnsafeBytes(of: storage) { raw in
            switch family {
            case .ipv4: return UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
            case .ipv6: return UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
            }
        }
    }

    /// The numeric host, without brackets (`127.0.0.1`, `::1`).
    public var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        withUnsafeBytes(of: storage) { raw in
            switch family {
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

    /// `127.0.0.1:80` or `[::1]:80`.
    public var description: String {
        family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Calls `body` with the address as the kernel takes it (for `connect`/`bind` on a socket
    /// made outside NetCore).
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: storage) { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)  // a local's address is never nil
        }
    }

    private var meaningfulBytes: [UInt8] {
        withUnsafeBytes(of: storage) { Array($0.prefix(Int(length))) }
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.meaningfulBytes == rhs.meaningfulBytes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(meaningfulBytes)
    }
}
