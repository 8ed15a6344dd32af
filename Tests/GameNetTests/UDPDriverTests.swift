import NetCore
import TestSupport
import Testing

@testable import GameNet

/// A host and a client over real UDP sockets on 127.0.0.1 through `UDPDriver`, on one loop.
@Suite struct UDPDriverTests {
    @Test func aClientConnectsSendsInOrderAndIsDisconnectedByTheHostOverRealSockets() throws {
        let (hostSocket, clientSocket, hostAddress) = try loopbackSocketPair()
        let count = 300
        let (received, clientEvents) = try runTasklet { () async throws -> ([[UInt8]], [GameNetEvent]) in
            let serving = Loop.current?.spawn(name: "game-host") { () async throws -> [[UInt8]] in
                let host = try Host()
                var messages: [[UInt8]] = []
                try await UDPDriver.run(host, on: hostSocket, limit: .seconds(20)) { event in
                    if case .message(let id, 0, let bytes) = event {
                        messages.append(bytes)
                        if messages.count == count { host.disconnect(id, nowNs: MonotonicClock.nanoseconds()) }
                    }
                    return messages.count < count
                }
                return messages
            }
            let client = try Client(server: hostAddress)
            client.connect(nowNs: MonotonicClock.nanoseconds())
            var events: [GameNetEvent] = []
            try await UDPDriver.run(client, on: clientSocket, limit: .seconds(20)) { event in
                events.append(event)
                if case .connected = event { for i in 0..<count { try client.send(numbered(i, size: 4 + i), channel: 0) } }
                if case .disconnected = event { return false }
                return true
            }
            return (try await serving?.value ?? [], events)
        }
        hostSocket.close()
        clientSocket.close()
        #expect(received == (0..<count).map { numbered($0, size: 4 + $0) })
        #expect(clientEvents.first.map { if case .connected = $0 { true } else { false } } == true)
        #expect(clientEvents.last.map { if case .disconnected(_, .closedByPeer) = $0 { true } else { false } } == true)
    }
}
