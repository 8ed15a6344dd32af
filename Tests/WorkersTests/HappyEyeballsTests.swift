import NetCore
import TestSupport
import Testing

@testable import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback port that silently drops connection attempts: a listener with a backlog of 0
/// whose accept queue is kept full (Linux then drops further SYNs, so a connect to it hangs
/// until its timeout, as to a host that drops packets). Close it with `close()`.
final class BlackHolePort {
    let port: UInt16
    private let listener: Int32
    private var fillers: [Int32] = []

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let address = SocketAddress.loopbackIPv4(port: 0)
        guard address.withSockAddr({ bind(fd, $0, $1) }) == 0, listen(fd, 0) == 0 else {
            throw TestFailure("bind/listen failed: \(errno)")
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: bound.sin_port)
        // Backlog 0 holds one connection in the accept queue; three more fill it for sure.
        for _ in 0..<3 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = SocketAddress.loopbackIPv4(port: port).withSockAddr { Glibc.connect(filler, $0, $1) }
            fillers.append(filler)
        }
    }

    func close() {
        for fd in fillers { Glibc.close(fd) }
        Glibc.close(listener)
    }
}

/// RFC 8305 (issue 14 point 2): addresses interleaved by family, attempts raced, the first to
/// connect wins, the rest are cancelled; a family restriction.
@Suite struct HappyEyeballsTests {
    @Test("addresses alternate by family, IPv6 first; .v4 and .v6 keep one family")
    func ordering() throws {
        let v6a = try SocketAddress(ip: "::1", port: 1)
        let v6b = try SocketAddress(ip: "fe80::1", port: 1)
        let v4a = try SocketAddress(ip: "127.0.0.1", port: 1)
        let v4b = try SocketAddress(ip: "127.0.0.2", port: 1)
        let v4c = try SocketAddress(ip: "127.0.0.3", port: 1)
        let found = [v4a, v4b, v6a, v4c, v6b]
        #expect(HappyEyeballs.order(found, families: .any) == [v6a, v4a, v6b, v4b, v4c])
        #expect(HappyEyeballs.order(found, families: .v4) == [v4a, v4b, v4c])
        #expect(HappyEyeballs.order(found, families: .v6) == [v6a, v6b])
    }

    @Test("a first address that drops packets costs about the attempt delay, not the connect timeout")
    func deadFirstAddress() throws {
        let dead = try BlackHolePort()
        defer { dead.close() }
        let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        defer { listener.close() }
        let addresses = [SocketAddress.loopbackIPv4(port: dead.port), SocketAddress.loopbackIPv4(port: listener.port)]
        let connectTimeout: Duration = .seconds(30)
        let (remotePort, elapsed) = try inTasklet {
            let start = ContinuousClock.now
            let socket = try await StreamSocket.connect(racing: addresses, attemptDelay: .milliseconds(100), timeout: connectTimeout)
            defer { socket.close() }
            return (try socket.remoteAddress().port, ContinuousClock.now - start)
        }
        print("connected to the second address after \(elapsed) (attempt delay 100 ms, connect timeout \(connectTimeout))")
        #expect(remotePort == listener.port)
        // Not a speed check: one by one, the dead address alone would hold it for the 30 s.
        #expect(elapsed < connectTimeout / 2)
    }

    @Test("when every attempt fails the last error is thrown; when none answers in time, a timeout")
    func failures() throws {
        let closedA = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        let closedB = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        let refused = [SocketAddress.loopbackIPv4(port: closedA.port), SocketAddress.loopbackIPv4(port: closedB.port)]
        closedA.close()
        closedB.close()
        let refusal = try inTasklet { () async -> (any Error)? in
            do {
                _ = try await StreamSocket.connect(racing: refused, attemptDelay: .milliseconds(100), timeout: .seconds(10))
                return nil
            } catch { return error }
        }
        #expect((refusal as? NetError)?.kind == .connectionRefused, "\(String(describing: refusal))")

        let deadA = try BlackHolePort()
        defer { deadA.close() }
        let deadB = try BlackHolePort()
        defer { deadB.close() }
        let silent = [SocketAddress.loopbackIPv4(port: deadA.port), SocketAddress.loopbackIPv4(port: deadB.port)]
        let timeout = try inTasklet { () async -> (any Error)? in
            do {
                _ = try await StreamSocket.connect(racing: silent, attemptDelay: .milliseconds(50), timeout: .milliseconds(400))
                return nil
            } catch { return error }
        }
        #expect(timeout is TimeoutError || (timeout as? NetError)?.kind == .timedOut, "\(String(describing: timeout))")
    }

    @Test("a name resolves AAAA and A at once; .v4 keeps only IPv4")
    func familiesFromTheResolver() throws {
        let pool = try WorkerPool(threads: 2, name: "he-resolver")
        defer { pool.shutdown() }
        let resolver = Resolver(pool: pool)
        let (any, v4) = try inTasklet {
            (
                try await resolver.resolve(host: "localhost", port: 80, families: .any),
                try await resolver.resolve(host: "localhost", port: 80, families: .v4)
            )
        }
        #expect(any.contains { $0.family == .ipv4 })
        #expect(!v4.isEmpty && v4.allSatisfy { $0.family == .ipv4 })
        #expect(pool.stats.completed >= 3, "AAAA and A were two jobs, plus the .v4 one")
    }
}
