import GameStandIn
import NetCore
import TestSupport
import Testing

@testable import GameNet

/// The example game's session end to end over real UDP: the stand-in game server on its own
/// thread, behind a relay that loses 10% each way and holds 20% of datagrams back by more than a
/// state interval (so older state updates arrive after newer ones), and a client on the test's
/// loop pumped by `UDPDriver.pump`, as game-client --gamenet does.
@Suite struct GameSessionEndToEndTests {
    @Test func theLevelArrivesByteExactChatInOrderAndStateOnlyMovesForward() throws {
        var link = LinkConditions(loss: 0.1, latency: .milliseconds(5), jitter: .milliseconds(2), reorder: 0.2)
        link.reorderDelayNs = 120_000_000  // over two state intervals: late updates must be dropped
        let seed: UInt64 = 77
        let server = try StandInGameServer(seed: seed, link: link)
        defer { server.stop() }
        let address = server.address
        let (level, echoes, ticks, chatSent) = try runTasklet { () async throws -> ([UInt8]?, [[UInt8]], [UInt64], Int) in
            let socket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
            defer { socket.close() }
            let client = try Client(server: address, config: GameProtocol.config)
            client.connect(nowNs: MonotonicClock.nanoseconds())
            var level: [UInt8]?
            var echoes: [[UInt8]] = []
            var ticks: [UInt64] = []
            var chatSent = 0
            var stateSent: UInt64 = 0
            let giveUp = MonotonicClock.nanoseconds() + 30_000_000_000
            while level == nil || echoes.count < 20 || ticks.count < 40, MonotonicClock.nanoseconds() < giveUp {
                try await UDPDriver.pump(client, on: socket, untilNs: MonotonicClock.nanoseconds() + 25_000_000) { event in
                    switch event {
                    case .message(_, GameProtocol.levelChannel, let bytes): level = bytes
                    case .message(_, GameProtocol.chatChannel, let bytes): echoes.append(bytes)
                    case .message(_, GameProtocol.stateChannel, let bytes): ticks.append(GameProtocol.tick(of: bytes) ?? 0)
                    case .disconnected(_, let reason): throw TestFailure("disconnected: \(reason)")
                    default: break
                    }
                }
                guard client.isConnected else { continue }
                if chatSent < 20 {
                    try client.send(GameProtocol.chatLine(chatSent), channel: GameProtocol.chatChannel)
                    chatSent += 1
                }
                stateSent += 1
                try client.send(GameProtocol.state(tick: stateSent), channel: GameProtocol.stateChannel)
            }
            client.disconnect(nowNs: MonotonicClock.nanoseconds())
            try await UDPDriver.pump(client, on: socket, untilNs: MonotonicClock.nanoseconds()) { _ in }
            return (level, echoes, ticks, chatSent)
        }
        #expect(level == GameProtocol.level(seed: seed), "the 200 KB level, fragmented, byte for byte")
        #expect(level?.count == GameProtocol.levelSize)
        #expect(chatSent == 20)
        #expect(echoes == (0..<20).map { GameProtocol.echo(of: GameProtocol.chatLine($0)) }, "every echo, in order")
        #expect(ticks.count >= 40)
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0 < $1 }, "state updates only move forward")
        #expect(!ticks.contains(0))
    }
}
