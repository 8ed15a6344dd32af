import NetCore
import TestSupport
import Testing

@testable import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// The longest any one resolver test waits for anything: a broken resolver fails the test with a
/// message instead of hanging the suite. Far above what a lookup of a literal or of localhost
/// takes on a loaded machine; no test checks speed against it.
private let testDeadline: Duration = .seconds(10)

/// Runs `body` as a tasklet on a fresh loop on this thread, cancelled with a failure naming
/// `what` if it has not finished within `testDeadline`.
/// - Throws: `TestFailure` on expiry; otherwise what `body` throws.
private func inTaskletWithDeadline<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) throws -> T {
    try inTasklet { () async throws -> T in
        do {
            return try await withTimeout(testDeadline, body)
        } catch let error as TimeoutError where error.timeout == testDeadline {
            throw TestFailure("\(what): not done within \(testDeadline)")
        }
    }
}

@Suite struct ResolverTests {
    @Test func numericAndLocalNamesResolveInTheSystemsOrder() throws {
        let pool = try WorkerPool(threads: 1)
        defer { pool.shutdown() }
        let resolver = Resolver(pool: pool)
        let (numeric, local) = try inTaskletWithDeadline("resolving 127.0.0.1 and localhost") {
            () async throws -> ([SocketAddress], [SocketAddress]) in
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
        let error = try inTaskletWithDeadline("resolving the empty name") { () async throws -> ResolverError? in
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
        let blockerRunning = Event()
        let resolver = Resolver(pool: pool)
        let outcome: String
        do {
            outcome = try inTaskletWithDeadline("a 30 ms lookup timeout") { () async throws -> String in
                // However the resolve ends, the blocking job is released (so the loop and the
                // pool's shutdown can end).
                defer { release.set() }
                // The pool's only thread is busy, so the lookup cannot start in time.
                Loop.current!.spawn {
                    try await pool.callAsync("blocker") { _ in
                        blockerRunning.set()
                        _ = release.waitBlocking(timeout: testDeadline)
                    }
                }
                guard try await blockerRunning.wait(timeout: testDeadline) else { return "the blocking job never ran" }
                do {
                    _ = try await resolver.resolve(host: "localhost", port: 1, timeout: .milliseconds(30))
                    return "resolved"
                } catch let error as TimeoutError where error.timeout == .milliseconds(30) {
                    return "timed out"
                }
            }
        } catch {
            outcome = "\(error)"
        }
        pool.shutdown()
        #expect(outcome == "timed out")
    }

    @Test func connectByNameReachesAListenerOnLoopback() throws {
        let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        defer { listener.close() }
        let port = listener.port
        let pool = try WorkerPool(threads: 1)
        defer { pool.shutdown() }
        let greeting = try inTaskletWithDeadline("connect to localhost and read the greeting") { () async throws -> [UInt8] in
            let server = Loop.current!.spawn {
                let connection = try await listener.accept(timeout: testDeadline)
                defer { connection.close() }
                try await connection.write("hi")
            }
            defer { server.cancel() }  // if connect failed, nothing would ever come to accept
            // "localhost" may list ::1 first, where nothing listens: connect moves on to 127.0.0.1.
            let socket = try await StreamSocket.connect(
                host: "localhost", port: port, timeout: .seconds(2),
                resolver: Resolver(pool: pool))
            defer { socket.close() }
            return try await socket.read(exactly: 2, timeout: testDeadline)
        }
        #expect(greeting == Array("hi".utf8))
    }
}
