import NetCore
import Testing

/// A socket address is small (a game host keeps one per peer), and compares and hashes by the
/// bytes the kernel would be given, whichever family it is.
@Suite struct SocketAddressTests {
    @Test func anAddressIsAtMost48BytesWhateverItsFamily() {
        // A sockaddr_storage alone is 128: kept inline, every peer of a host would carry it.
        #expect(MemoryLayout<SocketAddress>.size <= 48, "\(MemoryLayout<SocketAddress>.size) bytes")
    }

    @Test func equalAddressesAreEqualAndHashAlikeAndOthersDiffer() throws {
        let v4 = try SocketAddress(ip: "127.0.0.1", port: 80)
        let v6 = try SocketAddress(ip: "::1", port: 80)
        let path = try SocketAddress(unixPath: "/tmp/a.sock")
        let abstract = try SocketAddress(unixPath: "a.sock", abstract: true)
        let all = [v4, v6, path, abstract, try SocketAddress(ip: "127.0.0.1", port: 81), try SocketAddress(unixPath: "/tmp/b.sock")]
        for (i, a) in all.enumerated() {
            for (j, b) in all.enumerated() { #expect((a == b) == (i == j), "\(a) against \(b)") }
        }
        let again = [
            try SocketAddress(ip: "127.0.0.1", port: 80), try SocketAddress(ip: "::1", port: 80),
            try SocketAddress(unixPath: "/tmp/a.sock"), try SocketAddress(unixPath: "a.sock", abstract: true),
        ]
        for (a, b) in zip([v4, v6, path, abstract], again) {
            #expect(a == b && a.hashValue == b.hashValue)
        }
        #expect(Set(all + again).count == all.count)
        #expect(v4.family == .ipv4 && v6.family == .ipv6 && path.family == .unix && abstract.family == .unix)
        #expect(v4.port == 80 && v6.port == 80 && path.port == 0 && path.unixPath == "/tmp/a.sock" && abstract.unixPath == "@a.sock")
        #expect(v4.description == "127.0.0.1:80" && v6.description == "[::1]:80" && path.description == "unix:/tmp/a.sock")
    }
}
