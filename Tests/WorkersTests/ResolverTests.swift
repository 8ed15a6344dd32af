import NetCore
import Testing
@testable import Workers

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ResolverTests {
    @Test func numericAndLocalNamesResolveInTheSystemsOrder() throws {
        let pool = try WorkerPool(threads: 1)
        defer { pool.shutdown() }
        let resolver = Resolver(pool: pool)
        let (numeric, local) = try inTasklet { () async throws -> ([SocketAddress], [SocketAddress]) in
            (try await resolver.resolve(host: "127.0.0.1", port: 80), try await resolver.resolve(host: "localhost", port: 8080))
        }
        #expect(numeric == [SocketAddress.loopbackIPv4(port: 80)])
        #expect(!local.isEmpty)
        #expect(local.allSatisfy { $0.port == 8080 })
        #expect(local.contains { $0.host == "127.0.0.1" || $0.host == "::1" })
        #expect(local == (try Resolver.lookUp(host: "localhost", port: 8080)), "the pool returns getaddrinfo's order")
    }

    @Test func anUnknownNameIsATypedError() throws {
        let pool = try WorkerPool(threads: 1)
        defer { pool.shutdown() }
        let resolver = Resolver(pool: pool)
        let error = try inTasklet { () async throws -> ResolverError? in
            do {
                _ = try await resolver.resolve(host: "", port: 80)
                return nil
            } catch let error as ResolverError { return error }
        }
        #expect(error?.isNoSuchHost == true)
        #expect(error?.description.contains("EAI_NONAME") == true)
    }

    @Test func aLookupThatTakesTooLongTimesOut() throws {
        let pool = try WorkerPool(threads: 1)
        let release = Event()
        let resolver = Resolver(pool: pool)
        let outcome = try inTasklet { () async throws -> String in
            // The pool's only thread is busy, so the lookup cannot start in time.
            Loop.current!.spawn { try await pool.callAsync { _ in release.waitBlocking() } }
            await Tasklet.yield()
            do {
                _ = try await resolver.resolve(host: "localhost", port: 1, timeout: .milliseconds(30))
                return "resolved"
            } catch is TimeoutError {
                release.set()
                return "timed out"
            }
        }
        pool.shutdown()
        #expect(outcome == "timed out")
    }

    @Test func connectByNameReachesAListenerOnLoopback() throws {
        let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        let port = listener.port
        let pool = try WorkerPool(threads: 1)
        defer { pool.shutdown() }
        let greeting = try inTasklet { () async throws -> [UInt8] in
            Loop.current!.spawn {
                let connection = try await listener.accept()
                try await connection.write("hi")
                connection.close()
                listener.close()
            }
            // "localhost" may list ::1 first, where nothing listens: connect moves on to 127.0.0.1.
            let socket = try await StreamSocket.connect(host: "localhost", port: port, timeout: .seconds(2),
                                                        resolver: Resolver(pool: pool))
            defer { socket.close() }
            return try await socket.read(exactly: 2)
        }
        #expect(greeting == Array("hi".utf8))
    }
}
