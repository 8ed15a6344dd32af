import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// Which address families a connection may use.
public enum AddressFamilies: String, Sendable, Equatable, CaseIterable {
    /// Both, IPv6 first (RFC 8305 §4).
    case any
    /// IPv4 only (curl's `-4`).
    case v4
    /// IPv6 only (curl's `-6`).
    case v6
}

/// How a connection to a host name is made (RFC 8305, Happy Eyeballs v2): AAAA and A are looked
/// up at once on the resolver, the addresses are interleaved by family, and a new attempt
/// starts every `attemptDelay` while earlier ones are still pending (at once when one fails);
/// the first to connect wins and the others are cancelled and closed. So a first address that
/// silently drops packets costs about `attemptDelay`, not the connect timeout.
public struct HappyEyeballs: Sendable, Equatable {
    /// RFC 8305 §5's "Connection Attempt Delay": 250 ms recommended, 10 ms at the least.
    public var attemptDelay: Duration
    public var families: AddressFamilies

    public init(attemptDelay: Duration = .milliseconds(250), families: AddressFamilies = .any) {
        self.attemptDelay = max(.milliseconds(10), attemptDelay)
        self.families = families
    }

    /// `addresses` in the order they are tried: of the allowed families only, alternating
    /// between them, starting with IPv6 (RFC 8305 §4), each family in the resolver's order.
    public static func order(_ addresses: [SocketAddress], families: AddressFamilies) -> [SocketAddress] {
        let v6 = families == .v4 ? [] : addresses.filter { $0.family == .ipv6 }
        let v4 = families == .v6 ? [] : addresses.filter { $0.family == .ipv4 }
        var ordered: [SocketAddress] = []
        for index in 0..<max(v6.count, v4.count) {
            if index < v6.count { ordered.append(v6[index]) }
            if index < v4.count { ordered.append(v4[index]) }
        }
        return ordered
    }
}

extension Resolver {
    /// Looks up the addresses of the allowed families, AAAA and A as two jobs at once.
    /// - Throws: `ResolverError` when no lookup finds an address; as `resolve(host:port:timeout:)`.
    public func resolve(host: String, port: UInt16, families: AddressFamilies, timeout: Duration? = .seconds(10)) async throws
        -> [SocketAddress]
    {
        guard families == .any else {
            return try await lookUp(host: host, port: port, family: families == .v4 ? AF_INET : AF_INET6, timeout: timeout)
        }
        // Both at once: a slow AAAA answer (a broken IPv6 resolver path) does not delay the A one.
        let v6 = Loop.current?.spawn(name: "resolve AAAA \(host)") { [self] in
            try await lookUp(host: host, port: port, family: AF_INET6, timeout: timeout)
        }
        var v4: [SocketAddress] = []
        var v4Error: (any Error)?
        do { v4 = try await lookUp(host: host, port: port, family: AF_INET, timeout: timeout) } catch { v4Error = error }
        if v4Error is CancellationError { throw CancellationError() }
        // With A answered, AAAA gets RFC 8305's resolution delay (50 ms), no more: a broken IPv6
        // resolver path must not hold up a connection IPv4 can make now.
        var v6Found: [SocketAddress] = []
        if let v6 {
            if v4Error == nil {
                v6Found = (try? await withTimeout(.milliseconds(50)) { try await v6.value }) ?? []
                v6.cancel()
            } else {
                v6Found = (try? await v6.value) ?? []
            }
        }
        if let v4Error, v6Found.isEmpty { throw v4Error }  // neither found one: the A lookup's error says why
        return v6Found + v4
    }

    private func lookUp(host: String, port: UInt16, family: Int32, timeout: Duration?) async throws -> [SocketAddress] {
        let pool = pool
        let lookup: @Sendable () async throws -> [SocketAddress] = {
            try await pool.callAsync("getaddrinfo \(host)") { _ in try Resolver.lookUp(host: host, port: port, family: family) }
        }
        guard let timeout else { return try await lookup() }
        return try await withTimeout(timeout, lookup)
    }
}

extension StreamSocket {
    /// Connects to the first of `addresses` to answer, Happy Eyeballs style: one attempt now,
    /// another every `attemptDelay` while the earlier ones are pending, the next at once when
    /// one fails; the first connected socket is returned and every other attempt is cancelled
    /// (a late success is closed). Call from a tasklet; it runs one helper tasklet per attempt.
    /// - Throws: the last attempt's `NetError` when all fail; `TimeoutError` (operation
    ///   "connect") when `timeout` passes first; `LoopError.taskletLimitReached`;
    ///   `CancellationError`.
    public static func connect(racing addresses: [SocketAddress], attemptDelay: Duration, timeout: Duration?) async throws -> StreamSocket {
        guard let loop = Loop.current else { throw LoopError.notOnLoopThread("connect(racing:)") }
        guard addresses.count > 1 else {
            guard let only = addresses.first else { throw NetError(kind: .other, errno: 0, operation: "connect", context: "no address") }
            return try await connect(to: only, timeout: timeout)
        }
        // Every event comes through one channel that only this tasklet receives from, so no
        // outcome can be lost between a timer and an attempt. Each loop turn adds at most one
        // tick and each attempt one outcome: the capacity never blocks a sender.
        let events = Channel<ConnectRaceEvent>(capacity: 2 * addresses.count + 4)
        let race = ConnectRace()
        var attempts: [TaskletHandle<Void>] = []
        var timer: TaskletHandle<Void>?
        defer {
            race.decided = true
            for attempt in attempts { attempt.cancel() }
            timer?.cancel()
        }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var failed = 0
        var tick = 0
        var startNext = true
        while true {
            if startNext && attempts.count < addresses.count {
                let address = addresses[attempts.count]
                let limit = deadline.map { ContinuousClock.now.duration(to: $0) }
                attempts.append(
                    try loop.trySpawn(name: "connect \(address)") {
                        let outcome: Result<StreamSocket, any Error>
                        do { outcome = .success(try await StreamSocket.connect(to: address, timeout: limit)) } catch {
                            outcome = .failure(error)
                        }
                        if race.decided, case .success(let late) = outcome { late.close() }  // another one won
                        try? await events.send(.outcome(outcome))
                    })
            }
            startNext = false
            // The next attempt is due after the delay; with every attempt started, only the deadline.
            var wait = attempts.count < addresses.count ? attemptDelay : nil
            if let deadline { wait = min(wait ?? .seconds(86_400 * 365), ContinuousClock.now.duration(to: deadline)) }
            timer?.cancel()
            timer = nil
            tick += 1
            if let wait {
                let number = tick
                timer = try loop.trySpawn(name: "connect race timer") {
                    try await sleep(for: wait)
                    try await events.send(.tick(number))
                }
            }
            var event = try await events.receive()
            while case .tick(let number) = event, number != tick { event = try await events.receive() }  // a cancelled timer's
            switch event {
            case .outcome(.success(let socket)):
                race.decided = true
                return socket
            case .outcome(.failure(let error)):
                failed += 1
                if failed == addresses.count { throw error }
                startNext = true  // RFC 8305 §5: a failure starts the next attempt at once
            case .tick:
                if let deadline, ContinuousClock.now >= deadline {
                    throw TimeoutError(operation: "connect", timeout: timeout ?? .zero)
                }
                startNext = true
            }
        }
    }

    /// Resolves `host` (AAAA and A at once) and connects Happy Eyeballs style (RFC 8305).
    /// The lookup counts against `timeout`.
    /// - Throws: `ResolverError`; `TimeoutError`; as `connect(racing:attemptDelay:timeout:)`.
    public static func connect(
        host: String, port: UInt16, timeout: Duration?, resolver: Resolver?, happyEyeballs: HappyEyeballs
    ) async throws -> StreamSocket {
        let start = ContinuousClock.now
        let found = try await (resolver ?? Resolver.shared()).resolve(
            host: host, port: port, families: happyEyeballs.families, timeout: timeout ?? .seconds(10))
        let addresses = HappyEyeballs.order(found, families: happyEyeballs.families)
        guard !addresses.isEmpty else { throw ResolverError(code: EAI_NONAME, systemErrno: 0, host: host) }
        let left = timeout.map { $0 - (ContinuousClock.now - start) }
        if let left, left <= .zero { throw TimeoutError(operation: "connect", timeout: timeout ?? .zero) }
        return try await connect(racing: addresses, attemptDelay: happyEyeballs.attemptDelay, timeout: left)
    }
}

/// What the racing tasklet hears: an attempt's outcome, or that its delay `number` is over.
private enum ConnectRaceEvent: Sendable {
    case outcome(Result<StreamSocket, any Error>)
    case tick(Int)
}

/// Whether a race has a winner: read and set on the loop's thread only.
private final class ConnectRace: @unchecked Sendable {  // confined to the racing loop's thread
    var decided = false
}
