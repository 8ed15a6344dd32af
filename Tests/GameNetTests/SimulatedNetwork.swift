import NetCore

@testable import GameNet

/// A host and its clients joined by a `NetworkSimulator` on a virtual clock: each `tick` delivers
/// what has arrived, updates every machine and puts what they send on the simulated wire.
/// Deterministic from its seed; no real time passes. Test-thread only.
final class SimulatedNetwork {
    var sim: NetworkSimulator<SocketAddress>
    let host: Host
    let hostAddress = SocketAddress.loopbackIPv4(port: 4000)
    var clients: [(address: SocketAddress, client: Client)] = []
    var nowNs: Int64 = 1_000_000_000
    var hostEvents: [GameNetEvent] = []
    var clientEvents: [SocketAddress: [GameNetEvent]] = [:]
    let config: GameNetConfig
    /// Decides per datagram put on the wire whether it is lost (a test's targeted loss).
    var drop: (([UInt8]) -> Bool)?
    /// A direction that loses every datagram while set (a one-way outage).
    var outage: Direction?
    enum Direction { case hostToClients, clientsToHost }
    /// Each tick updates the machines before it delivers what arrived (then again after): a
    /// timer that fires in the same instant as a datagram arrives runs first, as on a real loop
    /// whose timer and socket are both ready.
    var timersBeforeArrivals = false
    private var random: SeededRandom

    /// - Parameter clientConfig: the clients' settings when they differ from the host's (a
    ///   client's connect token); `config` by default.
    var clientConfig: GameNetConfig

    init(seed: UInt64, conditions: LinkConditions = .perfect, config: GameNetConfig = GameNetConfig(), clientConfig: GameNetConfig? = nil)
        throws
    {
        self.clientConfig = clientConfig ?? config
        sim = NetworkSimulator(seed: seed, conditions: conditions)
        random = SeededRandom(seed: seed &+ 1)
        self.config = config
        host = try Host(config: config, random: SeededRandom(seed: seed &+ 2))
    }

    /// Adds a client at 127.0.0.1:`port` and starts its handshake.
    @discardableResult
    func addClient(port: UInt16, initialSequence: UInt32? = nil) throws -> Client {
        let address = SocketAddress.loopbackIPv4(port: port)
        let client =
            if let initialSequence {
                try Client(
                    server: hostAddress, config: clientConfig, random: SeededRandom(seed: random.next()), initialSequence: initialSequence)
            } else {
                try Client(server: hostAddress, config: clientConfig, random: SeededRandom(seed: random.next()))
            }
        clients.removeAll { $0.address == address }
        clients.append((address, client))
        client.connect(nowNs: nowNs)
        flush()
        return client
    }

    func flush() {
        for d in host.takeDatagrams() where drop?(d.bytes) != true && outage != .hostToClients {
            sim.send(d.bytes, from: hostAddress, to: d.to, nowNs: nowNs)
        }
        for (address, client) in clients {
            for d in client.takeDatagrams() where drop?(d.bytes) != true && outage != .clientsToHost {
                sim.send(d.bytes, from: address, to: d.to, nowNs: nowNs)
            }
        }
    }

    func tick(_ stepNs: Int64 = 1_000_000) {
        nowNs += stepNs
        if timersBeforeArrivals {
            host.update(nowNs: nowNs)
            for (_, client) in clients { client.update(nowNs: nowNs) }
            flush()
        }
        for d in sim.deliver(upTo: nowNs) {
            if d.to == hostAddress {
                host.receive(d.bytes, from: d.from, nowNs: nowNs)
            } else if let client = clients.first(where: { $0.address == d.to })?.client {
                client.receive(d.bytes, from: d.from, nowNs: nowNs)
            }
        }
        host.update(nowNs: nowNs)
        for (_, client) in clients { client.update(nowNs: nowNs) }
        flush()
        while let e = host.pollEvent() { hostEvents.append(e) }
        for (address, client) in clients {
            while let e = client.pollEvent() { clientEvents[address, default: []].append(e) }
        }
    }

    /// Ticks until `done` or `limitNs` of virtual time passed; returns whether `done` held.
    func run(forNs limitNs: Int64, stepNs: Int64 = 1_000_000, until done: () -> Bool = { false }) -> Bool {
        let end = nowNs + limitNs
        while nowNs < end {
            if done() { return true }
            tick(stepNs)
        }
        return done()
    }

    var hostConnectedCount: Int { hostEvents.filter { if case .connected = $0 { true } else { false } }.count }

    func messages(_ events: [GameNetEvent], channel: Int) -> [[UInt8]] {
        events.compactMap { if case .message(_, channel, let m) = $0 { m } else { nil } }
    }
}

/// Message `i`: its index and bytes that depend on it, so a swapped or cut message is caught.
func numbered(_ i: Int, size: Int = 20) -> [UInt8] {
    var bytes = withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }
    for k in 0..<max(0, size - 4) { bytes.append(UInt8(truncatingIfNeeded: i &* 31 &+ k)) }
    return bytes
}
