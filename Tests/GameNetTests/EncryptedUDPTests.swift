import Glibc
import NetCore
import TestSupport
import Testing

@testable import GameNet

/// An encrypted session (connect token) over real UDP sockets on 127.0.0.1 through `UDPDriver`:
/// the token handshake, 200 reliable-ordered messages each way in order, and a close.
@Suite struct EncryptedUDPTests {
    @Test func aTokenSessionExchangesMessagesOverRealSockets() throws {
        let hostKey = GameNetKey.random()
        let token = try ConnectToken.make(
            clientID: 4_242, protocolID: 7, expiresAtUnixSeconds: UInt64(time(nil)) + 30, hostKey: hostKey)
        var hostConfig = GameNetConfig()
        hostConfig.encryption = .connectTokens(hostKey: hostKey, protocolID: 7)
        var clientConfig = GameNetConfig()
        clientConfig.encryption = .connectToken(try ConnectToken.decode(token.encoded()))  // as sent by a matchmaker
        let (hostSocket, clientSocket, hostAddress) = try loopbackSocketPair()
        let count = 200
        let (atHost, atClient) = try runTasklet { [hostConfig, clientConfig] () async throws -> ([[UInt8]], [[UInt8]]) in
            let serving = Loop.current?.spawn(name: "secure-host") { () async throws -> [[UInt8]] in
                let host = try Host(config: hostConfig)
                var messages: [[UInt8]] = []
                try await UDPDriver.run(host, on: hostSocket, limit: .seconds(20)) { event in
                    if case .connected(let id) = event { for i in 0..<count { try host.send(numbered(i, size: 300), to: id, channel: 0) } }
                    if case .message(_, 0, let bytes) = event { messages.append(bytes) }
                    if case .disconnected = event { return false }
                    return true
                }
                return messages
            }
            let client = try Client(server: hostAddress, config: clientConfig)
            client.connect(nowNs: MonotonicClock.nanoseconds())
            var messages: [[UInt8]] = []
            try await UDPDriver.run(client, on: clientSocket, limit: .seconds(20)) { event in
                if case .connected = event { for i in 0..<count { try client.send(numbered(i, size: 100), channel: 0) } }
                if case .message(_, 0, let bytes) = event {
                    messages.append(bytes)
                    if messages.count == count { client.disconnect(nowNs: MonotonicClock.nanoseconds()) }
                }
                return messages.count < count
            }
            return (try await serving?.value ?? [], messages)
        }
        hostSocket.close()
        clientSocket.close()
        #expect(atClient == (0..<count).map { numbered($0, size: 300) })
        #expect(atHost == (0..<count).map { numbered($0, size: 100) })
    }
}
