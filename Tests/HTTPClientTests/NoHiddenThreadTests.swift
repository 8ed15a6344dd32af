import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing
import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 13 point 5: a loop-engine request to an IP literal starts no thread.
///
/// Threads are counted from /proc/self/task: the total (only reported: other suites run in
/// parallel in this process and start threads of their own) and the threads named after our
/// shared pools ("http-workers-N", "resolver-N"), which is asserted. The counter-cases
/// prove the measurement sees pool threads, so the assertion can fail.
@Suite(.serialized)
struct NoHiddenThreadTests {
    /// The names (`comm`, at most 15 bytes) of the process's threads now, one per thread.
    static func threadNames() throws -> [String] {
        guard let directory = opendir("/proc/self/task") else { throw TestFailure("cannot list /proc/self/task") }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard tid.first?.isNumber == true else { continue }  // "." and ".."
            let fd = open("/proc/self/task/\(tid)/comm", O_RDONLY)
            guard fd >= 0 else { continue }  // the thread ended between the listing and the open
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: 64)
            let count = read(fd, &bytes, bytes.count)
            guard count > 0 else { continue }
            let name = bytes[0..<count].last == UInt8(ascii: "\n") ? bytes[0..<count - 1] : bytes[0..<count]
            names.append(String(decoding: name, as: UTF8.self))
        }
        return names
    }

    /// True for a thread that a `Client` could start behind its caller's back: the shared HTTP
    /// workers and the shared resolver. (Pool watchdogs are opt-in and named after their pool;
    /// other suites' pools start and stop theirs meanwhile, so they are not counted here.)
    static func isPoolThread(_ name: String) -> Bool {
        name.hasPrefix("http-workers") || name.hasPrefix("resolver-")
    }

    /// The names starting with `prefix`, read until they are `expected` or 5 s have passed: a
    /// pool's threads name themselves first thing after they start, so a name may lag the
    /// pool's `init` by a moment. A bounded re-read, not a sleep.
    static func names(withPrefix prefix: String, awaiting expected: Set<String>) throws -> [String] {
        let deadline = ContinuousClock.now + .seconds(5)
        var seen: [String] = []
        repeat {
            seen = try threadNames().filter { $0.hasPrefix(prefix) }
        } while Set(seen) != expected && ContinuousClock.now < deadline
        return seen
    }

    @Test func loopEngineRequestToAnIPLiteralStartsNoThread() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/1000?seed=1"
        // onLoop drives a fresh Loop on this thread (a Loop starts no thread of its own).
        let before = try Self.threadNames()
        let (status, count) = try onLoop {
            let response = try await Client().get(url, engine: .loop)
            var count = 0
            for try await chunk in response.body { count += chunk.count }
            return (response.status, count)
        }
        let after = try Self.threadNames()
        #expect(status == 200)
        #expect(count == 1000)
        let poolBefore = before.filter(Self.isPoolThread)
        let poolAfter = after.filter(Self.isPoolThread)
        print(
            "threads: \(before.count) before, \(after.count) after (all suites); pool threads \(poolBefore.sorted()) -> \(poolAfter.sorted())"
        )
        #expect(poolAfter.count <= poolBefore.count, "the loop engine started pool threads: \(poolAfter.sorted())")
    }

    @Test func loopEngineLooksNamesUpOnTheConfiguredResolver() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let pool = try WorkerPool(threads: 1, name: "own-resolver")
        defer { pool.shutdown() }
        let configuration = HTTPClientConfiguration(resolver: Resolver(pool: pool))
        // A name, not an IP literal: the lookup must run on our pool, not `Resolver.shared()`.
        let url = "http://localhost:\(server.port)/gen/1000?seed=1"
        let status = try onLoop { try await Client(configuration: configuration).get(url, engine: .loop).status }
        #expect(status == 200)
        #expect(pool.stats.completed >= 1, "the lookup did not run on the configured resolver's pool")
    }

    @Test func workersEngineRequestShowsTheSharedPoolThreads() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/1000?seed=1"
        let before = try Self.threadNames().filter { $0.hasPrefix("http-workers-") }
        let status = try onLoop { try await Client().get(url, engine: .workers).status }
        let expected = Set((0..<8).map { "http-workers-\($0)" })
        let after = try Self.names(withPrefix: "http-workers-", awaiting: expected)
        #expect(status == 200)
        // Another test may have started the shared pool already; either way its 8 threads are
        // seen now, and they were either all there before or all new.
        #expect(Set(after) == expected)
        #expect(after.count == 8)
        #expect(before.isEmpty || before.count == 8)
    }

    @Test func aFreshPoolShowsItsThreadsByName() throws {
        let pool = try WorkerPool(threads: 2, name: "probe-pool")
        defer { pool.shutdown() }
        let expected: Set<String> = ["probe-pool-0", "probe-pool-1"]
        let seen = try Self.names(withPrefix: "probe-pool", awaiting: expected)
        #expect(Set(seen) == expected)
        #expect(seen.count == 2)
    }
}
