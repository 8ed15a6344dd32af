import NetCore
import TestSupport
import Testing

@testable import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// RFC 8305 (issue 14 point 2): addresses interleaved by family, attempts raced, the first to
/// connect wins, the rest are cancelled; a family restriction; a late AAAA answer joins the race.
/// The plan both engines drive is checked without I/O; each driver against ports that drop SYNs.
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
        #expect((timeout as? NetError)?.kind == .timedOut, "\(String(describing: timeout))")
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

    // MARK: - The plan, without I/O

    @Test("the plan: an attempt now, the next after the delay, at once after a failure; the first to connect wins")
    func planTimeline() throws {
        let (v6, v4a, v4b) = try planAddresses()
        let t0 = ContinuousClock.now
        let delay: Duration = .milliseconds(250)
        var plan = ConnectRacePlan(HappyEyeballs(attemptDelay: delay), lookups: 0, timeout: .seconds(10), now: t0)
        plan.add([v4a, v6, v4b, v4a])
        #expect(plan.next(now: t0).started == Started(0, v6))
        #expect(plan.next(now: t0).waitsUntil == t0 + delay, "the next attempt waits for the delay")
        #expect(plan.next(now: t0 + delay).started == Started(1, v4a))
        plan.failed(0, NetError(kind: .connectionRefused, errno: ECONNREFUSED, operation: "connect"))
        #expect(plan.next(now: t0 + .milliseconds(260)).started == Started(2, v4b), "a failure starts the next at once")
        #expect(plan.next(now: t0 + .milliseconds(260)).waitsUntil == t0 + .seconds(10), "nothing left to start: the deadline")
        let first = plan.connected(2)
        let second = plan.connected(1)
        #expect(first && !second, "the first to connect wins; a late success is closed")
        guard case .won(attempt: 2) = plan.next(now: t0 + .milliseconds(270)) else { throw TestFailure("no winner") }
    }

    @Test("the plan: A waits 50 ms for AAAA; a late AAAA joins the running race, next by alternation")
    func planLateAAAA() throws {
        let (v6, v4a, v4b) = try planAddresses()
        let t0 = ContinuousClock.now
        var plan = ConnectRacePlan(HappyEyeballs(attemptDelay: .milliseconds(100)), lookups: 2, timeout: nil, now: t0)
        #expect(plan.next(now: t0).waitsUntil == .some(nil), "no answer yet, no deadline")
        plan.resolved([v4a, v4b], now: t0)
        #expect(plan.next(now: t0).waitsUntil == t0 + ConnectRacePlan.resolutionDelay)
        #expect(plan.next(now: t0 + .milliseconds(50)).started == Started(0, v4a))
        plan.resolved([v6], now: t0 + .milliseconds(120))
        #expect(plan.next(now: t0 + .milliseconds(120)).waitsUntil == t0 + .milliseconds(150))
        #expect(plan.next(now: t0 + .milliseconds(150)).started == Started(1, v6), "the late AAAA goes before the second A")
        #expect(plan.next(now: t0 + .milliseconds(250)).started == Started(2, v4b))

        var early = ConnectRacePlan(HappyEyeballs(), lookups: 2, timeout: nil, now: t0)
        early.resolved([v4a], now: t0)
        early.resolved([v6], now: t0 + .milliseconds(10))
        #expect(early.next(now: t0 + .milliseconds(10)).started == Started(0, v6), "AAAA within the resolution delay goes first")
    }

    @Test("the plan: the deadline, failed lookups, every attempt failed, a family restriction")
    func planFailures() throws {
        let v6 = try SocketAddress(ip: "::1", port: 1)
        let v4 = try SocketAddress(ip: "127.0.0.1", port: 1)
        let t0 = ContinuousClock.now
        var late = ConnectRacePlan(HappyEyeballs(), lookups: 1, timeout: .milliseconds(300), now: t0)
        guard case .failed(let timeout) = late.next(now: t0 + .milliseconds(300)) else { throw TestFailure("no timeout") }
        #expect(timeout as? NetError == .timedOut("connect", after: .milliseconds(300)), "the lookup counts")

        var unknown = ConnectRacePlan(HappyEyeballs(), lookups: 2, timeout: nil, now: t0)
        unknown.lookupFailed(ResolverError(code: EAI_NONAME, systemErrno: 0, host: "a"))
        #expect(unknown.next(now: t0).waitsUntil == .some(nil), "the other lookup may still answer")
        unknown.lookupFailed(ResolverError(code: EAI_AGAIN, systemErrno: 0, host: "a"))
        guard case .failed(let lookup) = unknown.next(now: t0) else { throw TestFailure("no failure") }
        #expect((lookup as? ResolverError)?.code == EAI_NONAME)

        var refused = ConnectRacePlan(HappyEyeballs(families: .v4), lookups: 0, timeout: nil, now: t0)
        refused.add([v6, v4])
        #expect(refused.next(now: t0).started == Started(0, v4), ".v4 never tries the IPv6 address")
        refused.failed(0, NetError(kind: .connectionRefused, errno: ECONNREFUSED, operation: "connect"))
        guard case .failed(let last) = refused.next(now: t0) else { throw TestFailure("no failure") }
        #expect((last as? NetError)?.kind == .connectionRefused)
    }

    // MARK: - The worker thread's driver (non-blocking connects under one Poll)

    @Test("blocking: a first address that drops packets costs about the attempt delay; the loser is closed")
    func blockingDeadFirstAddress() throws {
        let dead = try BlackHolePort()
        defer { dead.close() }
        let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        defer { listener.close() }
        let connectTimeout: Duration = .seconds(30)
        let start = ContinuousClock.now
        let socket = try BlockingSocket.connect(
            racing: [dead.address, .loopbackIPv4(port: listener.port)], attemptDelay: .milliseconds(100), timeout: connectTimeout)
        let elapsed = ContinuousClock.now - start
        defer { socket.close() }
        print("blocking race: connected to the second address after \(elapsed) (attempt delay 100 ms, connect timeout \(connectTimeout))")
        #expect(try peerPort(of: socket.fileDescriptor) == listener.port)
        #expect(elapsed < connectTimeout / 2, "one by one, the dead address alone would hold it for 30 s")
        #expect(elapsed >= .milliseconds(100), "the second attempt waited for the delay")
        #expect(dead.pendingConnects == 0, "the attempt to the dead address was closed")
    }

    @Test("blocking: every address drops packets, so the connect timeout ends the race, and every attempt is closed")
    func blockingTimeout() throws {
        let deadA = try BlackHolePort()
        defer { deadA.close() }
        let deadB = try BlackHolePort(ipv6: true)
        defer { deadB.close() }
        let start = ContinuousClock.now
        let error = Result {
            try BlockingSocket.connect(
                racing: [deadA.address, deadB.address], attemptDelay: .milliseconds(50), timeout: .milliseconds(400))
        }
        let elapsed = ContinuousClock.now - start
        print("blocking race: every address dead, gave up after \(elapsed) (connect timeout 400 ms)")
        guard case .failure(let failure) = error else { throw TestFailure("connected to a port that drops SYNs") }
        #expect(failure as? NetError == .timedOut("connect", after: .milliseconds(400)), "\(failure)")
        #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(5))
        #expect(deadA.pendingConnects == 0 && deadB.pendingConnects == 0)
    }

    @Test("blocking: cancelling from another thread ends the race at once with CancellationError")
    func blockingCancellation() throws {
        let deadA = try BlackHolePort()
        defer { deadA.close() }
        let deadB = try BlackHolePort()
        defer { deadB.close() }
        let cancellation = BlockingCancellation()
        let lookedUp = Event()
        let pool = try WorkerPool(threads: 1, name: "he-unused")
        defer { pool.shutdown() }
        // The lookup runs on the racing thread just before the race: the canceller waits for it.
        let resolver = Resolver(pool: pool) { _, _, _ in
            lookedUp.set()
            return [deadA.address, deadB.address]
        }
        let canceller = TestThread.start {
            _ = lookedUp.waitBlocking()
            cancellation.cancel()
        }
        defer { canceller.join() }
        let start = ContinuousClock.now
        let outcome = Result {
            try BlockingSocket.connect(
                host: "dead.test", port: 1, timeout: .seconds(30), resolver: resolver, happyEyeballs: HappyEyeballs(),
                cancellation: cancellation)
        }
        let elapsed = ContinuousClock.now - start
        guard case .failure(let error) = outcome else { throw TestFailure("connected to a port that drops SYNs") }
        #expect(error is CancellationError, "\(error)")
        #expect(elapsed < .seconds(10), "cancelled after \(elapsed), not at the 30 s connect timeout")
        #expect(deadA.pendingConnects == 0 && deadB.pendingConnects == 0)
    }

    // MARK: - The loop's driver: a late AAAA answer

    @Test("loop: an AAAA answer after the resolution delay joins the race the A answer started")
    func lateAAAAJoinsTheRace() throws {
        let dead = try BlackHolePort()
        defer { dead.close() }
        let listener = try TCPListener(bindTo: try SocketAddress(ip: "::1", port: 0))
        defer { listener.close() }
        let live = try SocketAddress(ip: "::1", port: listener.port)
        let pool = try WorkerPool(threads: 2, name: "he-late")
        defer { pool.shutdown() }
        // The A answer is at once and only has the dead address; AAAA answers 300 ms later
        // (a slow IPv6 resolver path, modelled: far past the 50 ms resolution delay, so the
        // race has started without it). Dropped, it would leave the race to the connect timeout.
        let resolver = Resolver(pool: pool) { _, _, family in
            guard family == AF_INET6 else { return [dead.address] }
            usleep(300_000)
            return [live]
        }
        let connectTimeout: Duration = .seconds(30)
        let (remote, elapsed) = try inTasklet {
            let start = ContinuousClock.now
            let socket = try await StreamSocket.connect(
                host: "late.test", port: 1, timeout: connectTimeout, resolver: resolver,
                happyEyeballs: HappyEyeballs(attemptDelay: .milliseconds(100)))
            defer { socket.close() }
            return (try socket.remoteAddress(), ContinuousClock.now - start)
        }
        print("loop race: a late AAAA answer (300 ms) connected after \(elapsed) (connect timeout \(connectTimeout))")
        #expect(remote == live)
        #expect(elapsed >= .milliseconds(300) && elapsed < connectTimeout / 2)
        #expect(dead.pendingConnects == 0, "the attempt to the dead address was closed")
    }
}

/// An IPv6 address and two IPv4 ones for the plan's tests (never connected to).
private func planAddresses() throws -> (SocketAddress, SocketAddress, SocketAddress) {
    (try SocketAddress(ip: "::1", port: 1), try SocketAddress(ip: "127.0.0.1", port: 1), try SocketAddress(ip: "127.0.0.2", port: 1))
}

/// A `.start` action's attempt number and address.
struct Started: Equatable {
    var attempt: Int
    var address: SocketAddress
    init(_ attempt: Int, _ address: SocketAddress) {
        self.attempt = attempt
        self.address = address
    }
}

extension ConnectRacePlan.Action {
    /// The attempt number and address of a `.start`, else nil.
    var started: Started? {
        if case .start(let attempt, let address) = self { return Started(attempt, address) }
        return nil
    }

    /// The instant of a `.wait` (nil inside for no limit), else nil outside.
    var waitsUntil: ContinuousClock.Instant?? {
        if case .wait(let until) = self { return .some(until) }
        return nil
    }
}

/// The port a connected descriptor's peer has.
private func peerPort(of fd: Int32) throws -> UInt16 {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let found = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> SocketAddress? in
            getpeername(fd, pointer, &length) == 0 ? SocketAddress(pointer, length: length) : nil
        }
    }
    guard let found else { throw TestFailure("getpeername failed: \(errno)") }
    return found.port
}
