import GameNet
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// A stand-in game server on 127.0.0.1, on a loop of its own thread: a GameNet `Host` that sends
/// each client the level snapshot once it connects, its state at 20 Hz on the sequenced
/// channel, and echoes each chat line (`GameProtocol`). With `link`, clients reach it through a
/// `SimulatedRelay` on the same thread (loss, latency, jitter... in both directions), and
/// `address` is the relay's.
/// Starts one thread (on `cpus` if given); `stop` ends and joins it.
public final class StandInGameServer: @unchecked Sendable {  // set before the thread starts, then read-only
    /// Where clients connect (the relay's front socket when there is a link).
    public let address: SocketAddress
    private let loop: Loop
    private var thread = pthread_t()

    /// - Parameters:
    ///   - port: the host's port (0: any).
    ///   - seed: the level snapshot's (`GameProtocol.level(seed:)`) and the relay's.
    /// - Throws: `NetError` (binding), `GameNetError` (never with the game's config).
    public init(port: UInt16 = 0, seed: UInt64, link: LinkConditions? = nil, cpus: [Int]? = nil) throws {
        if let cpus { try CPUPlacement.validate(cpus) }
        loop = try Loop(name: "game-server")
        let socket = try UDPSocket(bindTo: .loopbackIPv4(port: port))
        let hostAddress = try socket.localAddress()
        let host = try Host(config: GameProtocol.config)
        let level = GameProtocol.level(seed: seed)
        loop.spawn(name: "game-host") {
            defer { socket.close() }
            try await Self.serve(host, on: socket, level: level)
        }
        if let link {
            let front = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
            address = try front.localAddress()
            let relay = SimulatedRelay(front: front, server: hostAddress, upstream: link, downstream: link, seed: seed)
            loop.spawn(name: "game-link") {
                defer { front.close() }
                try await relay.run()
            }
        } else {
            address = hostAddress
        }
        thread = try OSThreads.start(cpus: cpus) { [loop] in loop.run() }
    }

    /// Stops the server's loop and joins its thread. Once.
    public func stop() {
        loop.stop()
        pthread_join(thread, nil)
    }

    /// The host's tasklet: pumps until the next state tick, sends every connected client the
    /// tick, and answers what the handler saw (a level for each newcomer, an echo per chat line).
    nonisolated(nonsending) private static func serve(_ host: Host, on socket: UDPSocket, level: [UInt8]) async throws {
        var tick: UInt64 = 0
        var nextTickNs = MonotonicClock.nanoseconds()
        while true {
            try await UDPDriver.pump(host, on: socket, untilNs: nextTickNs) { event in
                switch event {
                case .connected(let id):
                    try host.send(level, to: id, channel: GameProtocol.levelChannel)
                case .message(let id, GameProtocol.chatChannel, let line):
                    try host.send(GameProtocol.echo(of: line), to: id, channel: GameProtocol.chatChannel)
                case .message, .disconnected:
                    break  // the clients' state updates need no answer here
                }
            }
            tick += 1
            for id in host.connectedIDs {
                try? host.send(GameProtocol.state(tick: tick), to: id, channel: GameProtocol.stateChannel)
            }
            nextTickNs += GameProtocol.stateIntervalNs
        }
    }
}
