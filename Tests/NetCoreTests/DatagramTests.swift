import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct DatagramTests {
    @Test func longDatagramsAreTruncatedToMaxBytesAndEmptyOnesArrive() throws {
        let server = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
        let client = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
        let address = try server.localAddress()
        let received = try runTasklet { () async throws -> [[UInt8]] in
            try await client.send(Array(repeating: 9, count: 3000), to: address)
            try await client.send([], to: address)
            let first = try await server.receive(maxBytes: 100).bytes
            let second = try await server.receive(maxBytes: 100).bytes
            return [first, second]
        }
        server.close()
        client.close()
        #expect(received == [Array(repeating: 9, count: 100), []])
    }

    @Test func connectedUDPSocketSendsAndReceivesWithoutAddresses() throws {
        let (left, leftAddress) = try loopbackUDP()
        let (right, rightAddress) = try loopbackUDP()
        let (stranger, _) = try loopbackUDP()
        try left.connect(to: rightAddress)
        try right.connect(to: leftAddress)
        #expect(try left.remoteAddress() == rightAddress)
        try runTasklet { () async throws in
            try await stranger.send([0xEE], to: leftAddress)  // the kernel filters it out
            try await right.send([1, 2, 3])
            let got: [UInt8] = try await left.receive(timeout: .seconds(5))
            #expect(got == [1, 2, 3])
            try await left.send([4])
            let (bytes, from) = try await right.receive(timeout: .seconds(5))  // the addressed form still works
            #expect(bytes == [4] && from == leftAddress)
        }
        for socket in [left, right, stranger] { socket.close() }
    }
}
