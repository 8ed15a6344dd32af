import NetCore

/// A UDP relay on 127.0.0.1 that puts a `NetworkSimulator` between real clients and one real
/// server, on the monotonic clock: netem for one port (netem is not available here). Any UDP
/// protocol goes through it unchanged (GameNet, ENet, ...), so two libraries can be measured
/// under the same seeded loss, latency, jitter, duplication, reordering and bandwidth.
///
/// Clients send to the relay's front socket; each client address gets an upstream socket of its
/// own (so the server sees one address per client, as it would without the relay); what the
/// server answers on it goes back to that client from the front socket. `upstream` applies from
/// each client to the server, `downstream` from the server to each client; each direction of
/// each client is its own link (its own bandwidth queue).
///
/// Runs on the calling tasklet's loop: one tasklet reads the front socket, one per client reads
/// its upstream socket, and the calling tasklet releases datagrams when they are due. It sleeps
/// until the next one is due (at most `tick`, at least 10 µs), so a datagram leaves as close to
/// its time as the loop's timers allow: within tens of microseconds (the kernel's timer slack)
/// on the select backend, but up to a millisecond late on epoll, whose waits libev rounds up to
/// whole milliseconds (and that lateness depends on when traffic last woke the loop, so two
/// protocols with different traffic do not pay the same: gamenet-bench runs its relay on
/// select). A datagram that arrives during a sleep and is due before it ends (no latency, or
/// jitter) waits for the sleep's end, up to `tick`. Not thread-safe: one loop. Starts no thread.
public final class SimulatedRelay: @unchecked Sendable {  // confined to one loop's thread (its tasklets)
    /// What went through, per direction (before the simulator's losses: what the senders sent).
    public struct Counters: Sendable, Equatable {
        /// Datagrams the clients sent towards the server.
        public var upstreamDatagrams = 0
        /// Their payload bytes (UDP payload, no headers).
        public var upstreamBytes = 0
        /// Datagrams the server sent back towards the clients.
        public var downstreamDatagrams = 0
        /// Their payload bytes (UDP payload, no headers).
        public var downstreamBytes = 0
    }

    private enum Endpoint: Hashable, Sendable {
        case client(Int)
        case server(Int)
    }

    /// The socket clients send to; the relay answers them from it.
    public let front: UDPSocket
    /// Where the relay forwards clients' datagrams.
    public let server: SocketAddress
    /// Datagrams and bytes that entered the relay, per direction.
    public private(set) var counters = Counters()
    /// Datagrams the simulator dropped (loss and full bandwidth queues).
    public var droppedDatagrams: Int { simulator.stats.lost + simulator.stats.queueDropped }
    /// Clients seen so far.
    public var clientCount: Int { clientAddresses.count }

    private let upstreamConditions: LinkConditions
    private let downstreamConditions: LinkConditions
    private var simulator: NetworkSimulator<Endpoint>
    private var clientIndex: [SocketAddress: Int] = [:]
    private var clientAddresses: [SocketAddress] = []
    private var upstreams: [UDPSocket] = []
    private var stopped = false

    /// - Parameters:
    ///   - front: the socket clients send to (bound by the caller, say to 127.0.0.1:0).
    ///   - server: where the server listens.
    ///   - upstream: the link from the clients to the server (loss, latency, jitter, ...).
    ///   - downstream: the link from the server back to the clients.
    ///   - seed: the simulator's seed (the same seed and the same arrivals give the same fates).
    public init(front: UDPSocket, server: SocketAddress, upstream: LinkConditions, downstream: LinkConditions, seed: UInt64) {
        self.front = front
        self.server = server
        upstreamConditions = upstream
        downstreamConditions = downstream
        simulator = NetworkSimulator(seed: seed)
    }

    /// Relays until `stop` is called (or the front socket is closed). Call from a tasklet; it
    /// spawns one tasklet for the front socket and one per client on the same loop, and they all
    /// end when this returns (their sockets are closed then; `front` stays open).
    /// - Parameter tick: the longest the releasing tasklet sleeps while datagrams are in flight
    ///   or may arrive.
    /// - Throws: `NetError` from a socket other than a refused port (a lost datagram);
    ///   `CancellationError`.
    nonisolated(nonsending) public func run(tick: Duration = .milliseconds(1)) async throws {
        guard let loop = Loop.current else { return }
        let reader = loop.spawn(name: "relay-front") { [self] in try await readFront() }
        defer {
            reader.cancel()
            for socket in upstreams { socket.close() }
        }
        let tickNs = tick.wholeNanoseconds
        while !stopped {
            let now = MonotonicClock.nanoseconds()
            for delivery in simulator.deliver(upTo: now) {
                switch delivery.to {
                case .server(let i): await sendIgnoringRefusal(delivery.bytes, on: upstreams[i], to: server)
                case .client(let i): await sendIgnoringRefusal(delivery.bytes, on: front, to: clientAddresses[i])
                }
            }
            let next = simulator.nextArrivalNs.map { max(0, min(tickNs, $0 - MonotonicClock.nanoseconds())) } ?? tickNs
            try await sleep(for: .nanoseconds(max(next, 10_000)))
        }
    }

    /// Makes `run` return at its next tick.
    public func stop() { stopped = true }

    nonisolated(nonsending) private func readFront() async throws {
        while !stopped {
            let (bytes, from): ([UInt8], SocketAddress)
            do { (bytes, from) = try await front.receive(maxBytes: 65_536) } catch let error as NetError
                where error.kind == .connectionRefused
            {
                continue
            }
            let index = try clientSlot(for: from)
            counters.upstreamDatagrams += 1
            counters.upstreamBytes += bytes.count
            simulator.send(bytes, from: .client(index), to: .server(index), nowNs: MonotonicClock.nanoseconds())
        }
    }

    private func clientSlot(for address: SocketAddress) throws -> Int {
        if let index = clientIndex[address] { return index }
        let index = clientAddresses.count
        let socket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
        clientIndex[address] = index
        clientAddresses.append(address)
        upstreams.append(socket)
        simulator.setConditions(upstreamConditions, from: .client(index), to: .server(index))
        simulator.setConditions(downstreamConditions, from: .server(index), to: .client(index))
        Loop.current?.spawn(name: "relay-upstream") { [self] in try await readUpstream(socket, index: index) }
        return index
    }

    nonisolated(nonsending) private func readUpstream(_ socket: UDPSocket, index: Int) async throws {
        while !stopped {
            let bytes: [UInt8]
            do { bytes = try await socket.receive(maxBytes: 65_536).bytes } catch let error as NetError {
                if error.kind == .connectionRefused { continue }
                if error.kind == .closed { return }
                throw error
            }
            counters.downstreamDatagrams += 1
            counters.downstreamBytes += bytes.count
            simulator.send(bytes, from: .server(index), to: .client(index), nowNs: MonotonicClock.nanoseconds())
        }
    }

    nonisolated(nonsending) private func sendIgnoringRefusal(_ bytes: [UInt8], on socket: UDPSocket, to address: SocketAddress) async {
        // A refused port or a full buffer is the network losing the datagram, as a real link would.
        _ = try? await socket.send(bytes, to: address, timeout: .milliseconds(1))
    }
}
