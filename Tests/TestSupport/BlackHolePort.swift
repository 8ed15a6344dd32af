import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback port that silently drops connection attempts: a listener with a backlog of 0
/// whose accept queue is kept full (Linux then drops further SYNs, so a connect to it hangs
/// until its timeout, as to a host that drops packets). On 127.0.0.1 or on ::1. Close it with
/// `close()`.
public final class BlackHolePort: @unchecked Sendable {  // immutable after init; `close()` once, by the test that made it
    public let port: UInt16
    /// The address a connect to hangs at.
    public let address: SocketAddress
    private let listener: Int32
    private var fillers: [Int32] = []
    /// The fillers' own ports, so that `pendingConnects` leaves them out.
    private var fillerPorts: Set<String> = []

    /// - Throws: `TestFailure` when the listener cannot be made.
    public init(ipv6: Bool = false) throws {
        let family = ipv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        let any = try SocketAddress(ip: ipv6 ? "::1" : "127.0.0.1", port: 0)
        guard any.withSockAddr({ bind(fd, $0, $1) }) == 0, listen(fd, 0) == 0 else {
            throw TestFailure("bind/listen failed: \(errno)")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let found = withUnsafePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0, length: length) }
        }
        guard let found else { throw TestFailure("getsockname gave no address") }
        listener = fd
        port = found.port
        address = found
        // Backlog 0 holds one connection in the accept queue; three more fill it for sure.
        for _ in 0..<3 {
            let filler = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = found.withSockAddr { Glibc.connect(filler, $0, $1) }
            fillers.append(filler)
            var local = sockaddr_storage()
            var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let localPort = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> UInt16? in
                    getsockname(filler, pointer, &localLength) == 0 ? SocketAddress(pointer, length: localLength)?.port : nil
                }
            }
            if let localPort { fillerPorts.insert(Self.hex(localPort)) }
        }
    }

    /// This process's open sockets (from /proc/self/fd) whose peer is this address (from
    /// /proc/net/tcp, or tcp6), in any state, other than the fillers `init` made: the attempts
    /// of the test that made it, not yet closed; -1 when a table cannot be read.
    public var pendingConnects: Int {
        let ipv6 = address.family == .ipv6
        // The kernel's spelling of the peer: 127.0.0.1 or ::1 in 32-bit words, then the port.
        let remote = (ipv6 ? "00000000000000000000000001000000:" : "0100007F:") + Self.hex(port)
        guard let bytes = FileSystemCalls.readSmallFile(ipv6 ? "/proc/net/tcp6" : "/proc/net/tcp", limit: 16 << 20),
            let open = Self.openSocketInodes()
        else { return -1 }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst().count { line in
            // Fields 1, 2 and 9: the local and the remote address (hex IP, colon, hex port), the inode.
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[2] == remote, let local = fields[1].split(separator: ":").last else { return false }
            return !fillerPorts.contains(String(local)) && open.contains(String(fields[9]))
        }
    }

    /// The inodes of this process's open sockets (`socket:[N]` in /proc/self/fd), or nil.
    private static func openSocketInodes() -> Set<String>? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var inodes: Set<String> = []
        var target = [CChar](repeating: 0, count: 64)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let length = readlink("/proc/self/fd/\(name)", &target, target.count - 1)
            guard length > 0 else { continue }
            let link = String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link.hasPrefix("socket:["), link.hasSuffix("]") { inodes.insert(String(link.dropFirst(8).dropLast())) }
        }
        return inodes
    }

    private static func hex(_ port: UInt16) -> String {
        let digits = String(port, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    public func close() {
        for fd in fillers { Glibc.close(fd) }
        Glibc.close(listener)
    }
}
