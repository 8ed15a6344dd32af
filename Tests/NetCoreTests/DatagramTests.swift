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
}
