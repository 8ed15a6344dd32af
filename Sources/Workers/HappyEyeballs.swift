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
    /// Which address families to try: `.any` (IPv6 first, alternating), `.v4` or `.v6` only.
    public var families: AddressFamilies

    /// A plan with this attempt delay (250 ms by default, RFC 8305's recommendation) and families.
    public init(attemptDelay: Duration = .milliseconds(250), families: AddressFamilies = .any) {
        self.attemptDelay = max(.milliseconds(10), attemptDelay)
        self.families = families
    }

    /// `addresses` in the order they are tried: of the allowed families only, alternating
    /// between them, starting with IPv6 (RFC 8305 §4), each family in the resolver's order.
    public static func order(_ addresses: [SocketAddress], families: AddressFamilies) -> [SocketAddress] {
        var plan = ConnectRacePlan(HappyEyeballs(families: families), lookups: 0, timeout: nil)
        plan.add(addresses)
        return Array(sequence(state: plan) { $0.takeNext() })
    }

    /// The `getaddrinfo` family of one lookup for `families`: `AF_UNSPEC` for both.
    public var lookupFamily: Int32 { families == .any ? AF_UNSPEC : families == .v4 ? AF_INET : AF_INET6 }
}

/// The decisions of a Happy Eyeballs race (RFC 8305 §3-§5), without I/O or clocks of its own:
/// a driver reports what happened (an answer, a connect's outcome) and asks `next(now:)` what to
/// do. Both engines drive this one plan: tasklets on the loop (`StreamSocket.connect(host:...)`)
/// and non-blocking connects polled on a worker thread (`BlockingSocket.connect(host:...)`).
struct ConnectRacePlan {
    /// What the driver does next.
    enum Action {
        /// Start connect attempt number `attempt` to `address`.
        case start(attempt: Int, SocketAddress)
        /// Wait for an event (an answer, an outcome), or until the instant (nil: no limit).
        case wait(until: ContinuousClock.Instant?)
        /// Attempt `attempt` connected: keep it, close every other one.
        case won(attempt: Int)
        /// Give up with this error; close every attempt.
        case failed(any Error)
    }

    /// RFC 8305 §3's "Resolution Delay": how long an A answer waits for AAAA before connecting.
    static let resolutionDelay: Duration = .milliseconds(50)

    private let happyEyeballs: HappyEyeballs
    private let timeout: Duration?
    private let deadline: ContinuousClock.Instant?
    private var v6: [SocketAddress] = []
    private var v4: [SocketAddress] = []
    private var seen: Set<SocketAddress> = []
    private var lastFamily: SocketAddress.Family?
    private var lookupsPending: Int
    private var firstV4Answer: ContinuousClock.Instant?
    private var started = 0
    private var pending = 0
    private var lastStart: ContinuousClock.Instant?
    private var startAtOnce = false
    private var lastError: (any Error)?
    private var winner: Int?

    /// A race of `lookups` answers still to come (0 when every address is `add`ed up front),
    /// given up after `timeout` from `now`: the lookups count against it.
    init(_ happyEyeballs: HappyEyeballs, lookups: Int, timeout: Duration?, now: ContinuousClock.Instant = .now) {
        self.happyEyeballs = happyEyeballs
        self.timeout = timeout
        deadline = timeout.map { now + $0 }
        lookupsPending = lookups
    }

    /// Addresses to try, known before the race; duplicates and other families are dropped.
    mutating func add(_ addresses: [SocketAddress]) {
        for address in addresses where !seen.contains(address) {
            switch (address.family, happyEyeballs.families) {
            case (.ipv6, .any), (.ipv6, .v6): v6.append(address)
            case (.ipv4, .any), (.ipv4, .v4): v4.append(address)
            default: continue
            }
            seen.insert(address)
        }
    }

    /// A lookup answered, maybe while attempts run: its addresses join the race (RFC 8305 §3:
    /// a late AAAA answer is tried next, by the alternation of families).
    mutating func resolved(_ addresses: [SocketAddress], now: ContinuousClock.Instant = .now) {
        lookupsPending -= 1
        if firstV4Answer == nil, addresses.contains(where: { $0.family == .ipv4 }) { firstV4Answer = now }
        add(addresses)
    }

    /// A lookup failed; its error is the one thrown if no address is ever found.
    mutating func lookupFailed(_ error: any Error) {
        lookupsPending -= 1
        if lastError == nil { lastError = error }
    }

    /// Attempt `attempt` connected. - Returns: false when another already won: close this one.
    mutating func connected(_ attempt: Int) -> Bool {
        pending -= 1
        guard winner == nil else { return false }
        winner = attempt
        return true
    }

    /// Attempt `attempt` failed: the next one starts at once (RFC 8305 §5).
    mutating func failed(_ attempt: Int, _ error: any Error) {
        pending -= 1
        lastError = error
        startAtOnce = true
    }

    /// What to do at `now`: one action; call again after acting on it (after `.start`, at once).
    mutating func next(now: ContinuousClock.Instant = .now) -> Action {
        if let winner { return .won(attempt: winner) }
        // As a single connect's timeout (`StreamSocket.connect(to:timeout:)`), so callers map both alike.
        if let deadline, now >= deadline { return .failed(NetError.timedOut("connect", after: timeout ?? .zero)) }
        var due: ContinuousClock.Instant?
        if !v6.isEmpty || !v4.isEmpty {
            var at = pending == 0 || startAtOnce ? now : (lastStart ?? now) + happyEyeballs.attemptDelay
            // An A answer waits a little for AAAA before the first attempt (§3).
            if started == 0, v6.isEmpty, lookupsPending > 0, let firstV4Answer { at = max(at, firstV4Answer + Self.resolutionDelay) }
            if at <= now, let address = takeNext() {
                startAtOnce = false
                lastStart = now
                pending += 1
                started += 1
                return .start(attempt: started - 1, address)
            }
            due = at
        } else if pending == 0 && lookupsPending == 0 {
            return .failed(lastError ?? NetError(kind: .other, errno: 0, operation: "connect", context: "no address"))
        }
        guard let deadline else { return .wait(until: due) }
        return .wait(until: min(due ?? deadline, deadline))
    }

    /// The next address by RFC 8305 §4's alternation (IPv6 first), or nil when none is left.
    mutating func takeNext() -> SocketAddress? {
        let family: SocketAddress.Family = v6.isEmpty || (!v4.isEmpty && lastFamily == .ipv6) ? .ipv4 : .ipv6
        guard let address = family == .ipv6 ? v6.first : v4.first else { return nil }
        if family == .ipv6 { v6.removeFirst() } else { v4.removeFirst() }
        lastFamily = family
        return address
    }
}

extension Resolver {
    /// Looks up the addresses of the allowed families, AAAA and A as two jobs at once; AAAA gets
    /// RFC 8305's 50 ms resolution delay after A (a broken IPv6 resolver path must not hold up a
    /// connection IPv4 can make now).
    /// - Throws: `ResolverError` when no lookup finds an address; as `resolve(host:port:timeout:)`.
    public func resolve(host: String, port: UInt16, families: AddressFamilies, timeout: Duration? = .seconds(10)) async throws
        -> [SocketAddress]
    {
        guard families == .any else {
            return try await lookUp(host: host, port: port, family: HappyEyeballs(families: families).lookupFamily, timeout: timeout)
        }
        let v6 = Loop.current?.spawn(name: "resolve AAAA \(host)") { [self] in
            try await lookUp(host: host, port: port, family: AF_INET6, timeout: timeout)
        }
        var v4: [SocketAddress] = []
        var v4Error: (any Error)?
        do { v4 = try await lookUp(host: host, port: port, family: AF_INET, timeout: timeout) } catch { v4Error = error }
        if v4Error is CancellationError { throw CancellationError() }
        var v6Found: [SocketAddress] = []
        if let v6 {
            if v4Error == nil {
                v6Found = (try? await withTimeout(ConnectRacePlan.resolutionDelay) { try await v6.value }) ?? []
                v6.cancel()
            } else {
                v6Found = (try? await v6.value) ?? []
            }
        }
        if let v4Error, v6Found.isEmpty { throw v4Error }  // neither found one: the A lookup's error says why
        return v6Found + v4
    }
}

extension StreamSocket {
    /// Connects to the first of `addresses` to answer, Happy Eyeballs style: one attempt now,
    /// another every `attemptDelay` while the earlier ones are pending, the next at once when
    /// one fails; the first connected socket is returned and every other attempt is cancelled
    /// (a late success is closed). Call from a tasklet; it runs one helper tasklet per attempt.
    /// - Throws: the last attempt's `NetError` when all fail; `NetError` of kind `.timedOut`
    ///   (operation "connect") when `timeout` passes first; `LoopError.taskletLimitReached`;
    ///   `CancellationError`.
    public static func connect(racing addresses: [SocketAddress], attemptDelay: Duration, timeout: Duration?) async throws -> StreamSocket {
        var plan = ConnectRacePlan(HappyEyeballs(attemptDelay: attemptDelay), lookups: 0, timeout: timeout)
        plan.add(addresses)
        return try await race(plan, lookups: []).socket
    }

    /// Resolves `host` and connects Happy Eyeballs style (RFC 8305): AAAA and A are looked up
    /// at once (one resolver job each), the race starts with the first answer (an A answer
    /// waits 50 ms for AAAA), and a later answer's addresses join the race. The lookups count
    /// against `timeout`. Call from a tasklet; it runs one helper tasklet per lookup and attempt.
    /// - Parameters:
    ///   - timeout: the longest the whole connect may take, lookups included; nil: none (each
    ///     lookup still gets 10 s).
    ///   - resolver: where the lookups run; nil uses `Resolver.shared()`, which starts its 2
    ///     threads on first use. Pass a resolver on your own pool to start none.
    ///   - happyEyeballs: the attempt delay and the allowed families.
    /// - Parameter host: the name (or IP literal) to connect to.
    /// - Parameter port: the TCP port.
    /// - Throws: `ResolverError` when no lookup finds an address; `NetError` `.timedOut`;
    ///   `WorkerPoolError.threadStartFailed` when the shared resolver cannot start; as
    ///   `connect(racing:attemptDelay:timeout:)`.
    public static func connect(
        host: String, port: UInt16, timeout: Duration? = nil, resolver: Resolver? = nil,
        happyEyeballs: HappyEyeballs = HappyEyeballs()
    ) async throws -> StreamSocket {
        try await connectTimed(host: host, port: port, timeout: timeout, resolver: resolver, happyEyeballs: happyEyeballs).socket
    }

    /// As `connect(host:...)`, and when the name was resolved: the `MonotonicClock` instant
    /// (nanoseconds) at which the first connect attempt started, so a caller can tell the lookup
    /// from the connect (one clock read more). - Throws: as `connect(host:...)`.
    public static func connectTimed(
        host: String, port: UInt16, timeout: Duration? = nil, resolver: Resolver? = nil,
        happyEyeballs: HappyEyeballs = HappyEyeballs()
    ) async throws -> (socket: StreamSocket, resolvedAt: Int64) {
        let resolver = try resolver ?? Resolver.shared()
        let families = happyEyeballs.families == .any ? [AF_INET6, AF_INET] : [happyEyeballs.lookupFamily]
        // getaddrinfo cannot be interrupted: without a connect timeout a lookup still gets 10 s.
        let lookupTimeout = timeout ?? .seconds(10)
        let plan = ConnectRacePlan(happyEyeballs, lookups: families.count, timeout: timeout)
        return try await race(
            plan,
            lookups: families.map { family in
                { try await resolver.lookUp(host: host, port: port, family: family, timeout: lookupTimeout) }
            })
    }

    /// The loop's driver of `plan`: a helper tasklet per lookup and per attempt, and one timer,
    /// all reporting through one channel that only this tasklet receives from.
    private static func race(
        _ plan: ConnectRacePlan, lookups: [@Sendable () async throws -> [SocketAddress]]
    ) async throws -> (socket: StreamSocket, resolvedAt: Int64) {
        guard let loop = Loop.current else { throw LoopError.notOnLoopThread("connect(racing:)") }
        var resolvedAt: Int64?
        var plan = plan
        // Helpers that find the channel full wait; once it is closed they close what they hold.
        let events = Channel<ConnectRaceEvent>(capacity: 16)
        var helpers: [TaskletHandle<Void>] = []
        var timer: TaskletHandle<Void>?
        var tick = 0
        var winner: StreamSocket?
        defer {
            events.close()
            for helper in helpers { helper.cancel() }
            timer?.cancel()
        }
        for lookup in lookups {
            helpers.append(
                try loop.trySpawn(name: "connect race lookup") {
                    let found: Result<[SocketAddress], any Error>
                    do { found = .success(try await lookup()) } catch { found = .failure(error) }
                    try? await events.send(.found(found))
                })
        }
        while true {
            let action = plan.next()
            switch action {
            case .start(let attempt, let address):
                if resolvedAt == nil { resolvedAt = MonotonicClock.nanoseconds() }
                helpers.append(
                    try loop.trySpawn(name: "connect \(address)") {
                        let outcome: Result<StreamSocket, any Error>
                        do { outcome = .success(try await StreamSocket.connect(to: address)) } catch { outcome = .failure(error) }
                        do { try await events.send(.outcome(attempt, outcome)) } catch {
                            if case .success(let late) = outcome { late.close() }  // the race is over
                        }
                    })
                continue
            case .won, .failed:
                // Outcomes already sent are closed here; later ones by their senders.
                events.close()
                while let event = try? await events.receive() {
                    if case .outcome(_, .success(let late)) = event { late.close() }
                }
                if case .failed(let error) = action { throw error }
                if let winner { return (winner, resolvedAt ?? MonotonicClock.nanoseconds()) }
                // Not reached: the plan names a winner only after `connected` said it won.
                throw NetError(kind: .other, errno: 0, operation: "connect", context: "no winner")
            case .wait(let until):
                timer?.cancel()
                timer = nil
                tick += 1
                if let until {
                    let number = tick
                    timer = try loop.trySpawn(name: "connect race timer") {
                        try await sleep(until: until)
                        try await events.send(.tick(number))
                    }
                }
            }
            switch try await events.receive() {
            case .found(.success(let addresses)): plan.resolved(addresses)
            case .found(.failure(let error)): plan.lookupFailed(error)
            case .outcome(let attempt, .success(let socket)):
                if plan.connected(attempt) { winner = socket } else { socket.close() }
            case .outcome(let attempt, .failure(let error)): plan.failed(attempt, error)
            case .tick: break  // a stale tick only makes the plan look again
            }
        }
    }
}

/// What the racing tasklet hears: a lookup's answer, attempt `n`'s outcome, or that its wait
/// `n` is over.
private enum ConnectRaceEvent: Sendable {
    case found(Result<[SocketAddress], any Error>)
    case outcome(Int, Result<StreamSocket, any Error>)
    case tick(Int)
}
