import NetCore

extension BlockingSocket {
    /// Resolves `host` on the calling thread (one getaddrinfo of the allowed families, through
    /// `resolver`'s lookup when one is given) and connects Happy Eyeballs style (RFC 8305), as
    /// `StreamSocket.connect(host:...)` does on the loop: the same order, attempt delay, family
    /// restriction and deadline, the lookup counted against `timeout`. Starts no thread: the
    /// attempts are non-blocking connects polled together on this thread. Call on a worker thread.
    /// Cost: the lookup, a socket per attempt, a poll per event or attempt delay.
    /// - Parameter cancellation: each pending attempt is attached to it, so `cancel()` from
    ///   another thread ends the race at once; each is detached before it is closed.
    /// - Parameter happyEyeballs: the attempt delay and the allowed families.
    /// - Parameter host: the name (or IP literal) to connect to.
    /// - Parameter port: the TCP port.
    /// - Parameter resolver: where the lookup runs; nil calls getaddrinfo on this thread.
    /// - Parameter timeout: the longest the lookup and the connects may take together.
    /// - Throws: `ResolverError`; the last attempt's `NetError` when all fail; `NetError` of kind
    ///   `.timedOut` (operation "connect") when `timeout` passes first; `CancellationError` once cancelled.
    public static func connect(
        host: String, port: UInt16, timeout: Duration?, resolver: Resolver?, happyEyeballs: HappyEyeballs,
        cancellation: BlockingCancellation? = nil
    ) throws -> BlockingSocket {
        try connectTimed(
            host: host, port: port, timeout: timeout, resolver: resolver, happyEyeballs: happyEyeballs, cancellation: cancellation
        ).socket
    }

    /// As `connect(host:...)`, and when the name was resolved: the `MonotonicClock` instant
    /// (nanoseconds) at which the first connect attempt started (one clock read more).
    /// - Throws: as `connect(host:...)`.
    public static func connectTimed(
        host: String, port: UInt16, timeout: Duration?, resolver: Resolver?, happyEyeballs: HappyEyeballs,
        cancellation: BlockingCancellation? = nil
    ) throws -> (socket: BlockingSocket, resolvedAt: Int64) {
        var plan = ConnectRacePlan(happyEyeballs, lookups: 1, timeout: timeout)
        do {
            let lookUp = resolver?.lookUp ?? Resolver.lookUp(host:port:family:)
            plan.resolved(try lookUp(host, port, happyEyeballs.lookupFamily))
        } catch { plan.lookupFailed(error) }
        return try race(plan, cancellation: cancellation)
    }

    /// Connects to the first of `addresses` to answer, as `StreamSocket.connect(racing:...)` does
    /// on the loop, on the calling thread. - Throws: as `connect(host:...)`, without the lookup.
    public static func connect(
        racing addresses: [SocketAddress], attemptDelay: Duration, timeout: Duration?, cancellation: BlockingCancellation? = nil
    ) throws -> BlockingSocket {
        var plan = ConnectRacePlan(HappyEyeballs(attemptDelay: attemptDelay), lookups: 0, timeout: timeout)
        plan.add(addresses)
        return try race(plan, cancellation: cancellation).socket
    }

    /// The worker thread's driver of `plan`: a non-blocking connect per attempt, all pending
    /// ones waited on in one `Poll.poll` (a failed handshake shows as ready, and `SO_ERROR`
    /// says how it ended). Cost per wake-up: one poll, one getsockopt per ready attempt.
    private static func race(_ plan: ConnectRacePlan, cancellation: BlockingCancellation?) throws -> (
        socket: BlockingSocket, resolvedAt: Int64
    ) {
        var plan = plan
        var resolvedAt: Int64?
        var pending: [(attempt: Int, address: SocketAddress, socket: BlockingSocket)] = []
        var winner: BlockingSocket?
        defer {
            for attempt in pending {
                cancellation?.detach(attempt.socket.fileDescriptor)
                attempt.socket.close()
            }
        }
        while true {
            if cancellation?.isCancelled == true { throw CancellationError() }
            switch plan.next() {
            case .start(let attempt, let address):
                if resolvedAt == nil { resolvedAt = MonotonicClock.nanoseconds() }
                do {
                    let (socket, connected) = try BlockingSocket.startConnect(to: address)
                    if connected {
                        if plan.connected(attempt) { winner = socket } else { socket.close() }
                    } else {
                        pending.append((attempt, address, socket))
                        try cancellation?.attach(socket.fileDescriptor)
                    }
                } catch let error as NetError { plan.failed(attempt, error) }
            case .won:
                guard let winner else { throw NetError(kind: .other, errno: 0, operation: "connect", context: "no winner") }
                cancellation?.detach(winner.fileDescriptor)  // attached again by its user, for its whole life
                return (winner, resolvedAt ?? MonotonicClock.nanoseconds())
            case .failed(let error):
                throw error
            case .wait(let until):
                let requests = pending.map { PollRequest(fd: $0.socket.fileDescriptor, events: .writable) }
                let ready = Set(try Poll.poll(requests, timeout: until.map { ContinuousClock.now.duration(to: $0) }).map(\.fd))
                let finished = pending.filter { ready.contains($0.socket.fileDescriptor) }
                pending.removeAll { ready.contains($0.socket.fileDescriptor) }
                for attempt in finished {  // in the order they started: the earliest wins a tie
                    cancellation?.detach(attempt.socket.fileDescriptor)
                    do {
                        try attempt.socket.finishConnect(to: attempt.address)
                        if plan.connected(attempt.attempt) { winner = attempt.socket } else { attempt.socket.close() }
                    } catch {
                        attempt.socket.close()
                        plan.failed(attempt.attempt, error)
                    }
                }
            }
        }
    }
}
