import NetCore
import TestSupport
import Testing

@testable import GameNet

/// The drivers' order after a datagram: its events go to the handler before anything is sent,
/// so the game has a message before the ack it made due goes out, and that ack rides on what
/// the handler sends back instead of leaving alone. Over real UDP sockets on 127.0.0.1, with
/// every packet acked at once (`ackEveryPackets` 1) and no keep-alive or resend in the run's time.
@Suite struct UDPDriverOrderTests {
    static let exchanges = 20

    static var config: GameNetConfig {
        var config = GameNetConfig.keepAlive(4_000_000_000, timeout: 10_000_000_000)
        config.ackEveryPackets = 1
        // No resend in the run's time (a stalled machine's resend would go without an event and
        // draw a lone ack): only the drivers' order is measured.
        config.initialRTONs = 5_000_000_000
        config.minRTONs = 5_000_000_000
        config.maxRTONs = 10_000_000_000
        return config
    }

    /// The host (`UDPDriver.run`) echoes each message; the client (`UDPDriver.pump`) sends the
    /// next one when the echo arrives. Each side's acks then ride on its replies: a driver that
    /// sent what the datagram made due before handing out its events would send one ack alone
    /// per message on each side (about 20 each).
    @Test func acksRideOnWhatTheHandlerSendsBack() throws {
        let (hostSocket, clientSocket, hostAddress) = try loopbackSocketPair()
        defer {
            hostSocket.close()
            clientSocket.close()
        }
        let (hostAcks, clientAcks, echoes) = try runTasklet { () async throws -> (Int, Int, Int) in
            let serving = Loop.current?.spawn(name: "game-host") { () async throws -> Int in
                let host = try Host(config: Self.config)
                var acksAlone = 0
                try await UDPDriver.run(host, on: hostSocket, limit: .seconds(30)) { event in
                    switch event {
                    case .message(let id, 0, let bytes):
                        // Nothing has been sent for this datagram yet: its ack is not built.
                        acksAlone = host.stats(id)?.acksSent ?? -1
                        try? host.send(bytes, to: id, channel: 0)
                        return true
                    case .disconnected: return false
                    default: return true
                    }
                }
                return acksAlone
            }
            let client = try Client(server: hostAddress, config: Self.config)
            client.connect(nowNs: MonotonicClock.nanoseconds())
            var echoes = 0
            var finished = false
            let giveUp = MonotonicClock.nanoseconds() + 20_000_000_000
            while !finished, MonotonicClock.nanoseconds() < giveUp {
                try await UDPDriver.pump(client, on: clientSocket, untilNs: MonotonicClock.nanoseconds() + 5_000_000) {
                    event in
                    switch event {
                    case .connected: try? client.send([0], channel: 0)
                    case .message(_, 0, _):
                        echoes += 1
                        if echoes < Self.exchanges {
                            try? client.send([UInt8(echoes)], channel: 0)
                        } else {
                            finished = true
                        }
                    default: break
                    }
                }
            }
            let clientAcks = client.stats?.acksSent ?? -1
            client.disconnect(nowNs: MonotonicClock.nanoseconds())
            try await UDPDriver.pump(client, on: clientSocket, untilNs: MonotonicClock.nanoseconds() + 5_000_000) { _ in }
            return (try await serving?.value ?? -1, clientAcks, echoes)
        }
        #expect(echoes == Self.exchanges)
        // The last echo's ack may leave alone (nothing follows it); the handshake's none.
        #expect(hostAcks >= 0 && hostAcks <= 1, "the host sent \(hostAcks) acks alone before the last message")
        #expect(clientAcks >= 0 && clientAcks <= 2, "the client sent \(clientAcks) acks alone")
    }

    /// A handler that ends `run` on a datagram's message still has the ack that datagram made
    /// due sent (with any last words): the peer is not left to resend a message that arrived.
    @Test func endingRunOnAMessageStillAcksIt() throws {
        let (hostSocket, clientSocket, hostAddress) = try loopbackSocketPair()
        defer {
            hostSocket.close()
            clientSocket.close()
        }
        let (received, inFlight, resent) = try runTasklet { () async throws -> (Bool, Int, Int) in
            let serving = Loop.current?.spawn(name: "game-host") { () async throws -> Bool in
                let host = try Host(config: Self.config)
                var received = false
                try await UDPDriver.run(host, on: hostSocket, limit: .seconds(30)) { event in
                    guard case .message(_, 0, _) = event else { return true }
                    received = true
                    return false  // the pump ends here, right after the datagram
                }
                return received
            }
            let client = try Client(server: hostAddress, config: Self.config)
            client.connect(nowNs: MonotonicClock.nanoseconds())
            var sentAtNs: Int64?
            let giveUp = MonotonicClock.nanoseconds() + 20_000_000_000
            while MonotonicClock.nanoseconds() < giveUp {
                try await UDPDriver.pump(client, on: clientSocket, untilNs: MonotonicClock.nanoseconds() + 5_000_000) {
                    event in
                    if case .connected = event {
                        try? client.send([42], channel: 0)
                        sentAtNs = MonotonicClock.nanoseconds()
                    }
                }
                guard let sentAtNs else { continue }
                if client.reliablePacketsInFlight == 0 { break }
                // The host has stopped pumping: a missing ack would never come (no resend in time).
                if MonotonicClock.nanoseconds() - sentAtNs > 1_000_000_000 { break }
            }
            let received = try await serving?.value ?? false
            return (received, client.reliablePacketsInFlight ?? -1, client.stats?.messagesResent ?? -1)
        }
        #expect(received)
        #expect(inFlight == 0, "the host's last pump sent no ack for the message it handed out")
        #expect(resent == 0)
    }
}
