import GameNet
import GameStandIn
import NetCore

/// What the GameNet session did, written by its tasklet on the game thread (the loop is pumped
/// there), read by the frame loop on the same thread.
final class GameNetSessionState: @unchecked Sendable {  // the game thread only
    var connectedAtNs: Int64?
    var levelArrivedAfterNs: Int64?
    var chatSent = 0
    var chatEchoes = 0
    var statesSent = 0
    var statesReceived = 0
    var newestTick: UInt64 = 0
    var stats: ConnectionStats?
    var errors: [String] = []
    var finished = false
}

/// Starts the game's GameNet session on `loop`, to the stand-in game server at `server`: state
/// at 20 Hz on the unreliable-sequenced channel, a chat line every 250 ms on the reliable-ordered
/// one (each echo checked, in order), and the 200 KB level snapshot the server sends on connect
/// (checked byte for byte). One tasklet: `UDPDriver.pump` up to the next send, so all of it runs
/// inside the frame's `loop.pump(budget:)`. Ends after `seconds` of state sync past the level.
func startGameNetLayer(on loop: Loop, server: SocketAddress, levelSeed: UInt64, seconds: Int, state: GameNetSessionState) {
    loop.spawn(name: "gamenet-session") {
        do {
            try await runGameNetSession(server: server, levelSeed: levelSeed, seconds: seconds, state: state)
        } catch {
            state.errors.append("gamenet: \(error)")
        }
        state.finished = true
    }
}

nonisolated(nonsending) private func runGameNetSession(
    server: SocketAddress, levelSeed: UInt64, seconds: Int, state: GameNetSessionState
) async throws {
    let socket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
    defer { socket.close() }
    let client = try Client(server: server, config: GameProtocol.config)
    let level = GameProtocol.level(seed: levelSeed)
    client.connect(nowNs: MonotonicClock.nanoseconds())
    var nextStateNs = MonotonicClock.nanoseconds()
    var nextChatNs = nextStateNs
    var endNs = Int64.max
    let giveUpNs = nextStateNs + 60_000_000_000
    while MonotonicClock.nanoseconds() < min(endNs, giveUpNs) {
        // Until the accept, slices of 10 ms (the sends' times start with the session).
        let untilNs = client.isConnected ? min(nextStateNs, nextChatNs) : MonotonicClock.nanoseconds() + 10_000_000
        try await UDPDriver.pump(client, on: socket, untilNs: untilNs) { event in
            switch event {
            case .connected:
                state.connectedAtNs = MonotonicClock.nanoseconds()
                nextStateNs = state.connectedAtNs ?? nextStateNs
                nextChatNs = nextStateNs
            case .message(_, GameProtocol.levelChannel, let bytes):
                guard bytes == level else { throw GameError("the level snapshot arrived different (\(bytes.count) bytes)") }
                let now = MonotonicClock.nanoseconds()
                state.levelArrivedAfterNs = now - (state.connectedAtNs ?? now)
                endNs = now + Int64(seconds) * 1_000_000_000
            case .message(_, GameProtocol.chatChannel, let bytes):
                guard bytes == GameProtocol.echo(of: GameProtocol.chatLine(state.chatEchoes)) else {
                    throw GameError("chat echo \(state.chatEchoes) out of order")
                }
                state.chatEchoes += 1
            case .message(_, _, let bytes):
                guard let tick = GameProtocol.tick(of: bytes), tick > state.newestTick else {
                    throw GameError("a state update went backwards")
                }
                state.newestTick = tick
                state.statesReceived += 1
            case .disconnected(_, let reason): throw GameError("disconnected: \(reason)")
            }
        }
        guard client.isConnected else { continue }
        let now = MonotonicClock.nanoseconds()
        if now >= nextStateNs {
            state.statesSent += 1
            try client.send(GameProtocol.state(tick: UInt64(state.statesSent)), channel: GameProtocol.stateChannel)
            nextStateNs += GameProtocol.stateIntervalNs
        }
        if now >= nextChatNs {
            try client.send(GameProtocol.chatLine(state.chatSent), channel: GameProtocol.chatChannel)
            state.chatSent += 1
            nextChatNs += 250_000_000
        }
    }
    state.stats = client.stats
    guard state.levelArrivedAfterNs != nil else { throw GameError("no level snapshot within 60 s") }
    client.disconnect(nowNs: MonotonicClock.nanoseconds())
    try await UDPDriver.pump(client, on: socket, untilNs: MonotonicClock.nanoseconds()) { _ in }
}
