import TestSupport
import Testing

@testable import NetTLS

/// Two `TLSMachine`s back to back in memory, with no socket: the handshake, data both ways,
/// both ends of a stream, verification failures and bytes that are not TLS.
@Suite struct TLSMachineInMemoryTests {
    @Test func handshakeAndDataBothWaysWithNoSocket() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let client = try TLSMachine(context: try pki.clientContext(), role: .client(serverName: "localhost"))
        let server = try TLSMachine(context: try pki.serverContext(), role: .server)
        try handshakeInMemory(client: client, server: server)
        #expect(client.protocolVersion == "TLSv1.3")
        #expect(server.protocolVersion == "TLSv1.3")

        // Several records each way, in flight at the same time.
        let request = tlsPattern(300_000, seed: 1)
        let response = tlsPattern(200_000, seed: 2)
        try writeAll(client, request)
        try writeAll(server, response)
        #expect(client.pendingCiphertextCount > request.count, "ciphertext waits in the machine until taken")
        try shuttle(from: client, to: server)
        try shuttle(from: server, to: client)
        let atServer = try readAvailable(server)
        let atClient = try readAvailable(client)
        #expect(atServer.bytes == request)
        #expect(atClient.bytes == response)
        #expect(!atServer.ended && !atClient.ended)

        // close_notify: an authenticated end.
        #expect(client.queueCloseNotify())
        #expect(!client.queueCloseNotify(), "once")
        try shuttle(from: client, to: server)
        let end = try readAvailable(server)
        #expect(end.bytes.isEmpty && end.ended)
        #expect(!server.endedWithoutCloseNotify)
        #expect(OpenSSLErrorQueue.isEmpty)
    }

    @Test func anEndWithoutCloseNotifyIsReportedAsTruncation() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let client = try TLSMachine(context: try pki.clientContext(), role: .client(serverName: "localhost"))
        let server = try TLSMachine(context: try pki.serverContext(), role: .server)
        try handshakeInMemory(client: client, server: server)
        try writeAll(server, tlsPattern(1_000))
        try shuttle(from: server, to: client)
        client.receivedEndOfStream()  // the transport ended: no close_notify came
        let got = try readAvailable(client)
        #expect(got.bytes == tlsPattern(1_000), "what arrived is delivered first")
        #expect(got.ended)
        #expect(client.endedWithoutCloseNotify)
        #expect(try readAvailable(client).ended, "and the end stays an end")
        #expect(!client.isIdle())
        #expect(OpenSSLErrorQueue.isEmpty)
    }

    @Test func anEndInsideARecordIsTruncationToo() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let client = try TLSMachine(context: try pki.clientContext(), role: .client(serverName: "localhost"))
        let server = try TLSMachine(context: try pki.serverContext(), role: .server)
        try handshakeInMemory(client: client, server: server)
        try writeAll(server, tlsPattern(10_000))
        var ciphertext = [UInt8](repeating: 0, count: 64 << 10)
        let count = ciphertext.withUnsafeMutableBytes { server.takeCiphertext(into: $0) }
        try ciphertext.withUnsafeBytes { try client.receivedCiphertext(UnsafeRawBufferPointer(rebasing: $0[0..<(count / 2)])) }
        #expect(try readAvailable(client).bytes.isEmpty, "half a record decrypts to nothing")
        client.receivedEndOfStream()
        let got = try readAvailable(client)
        #expect(got.bytes.isEmpty && got.ended)
        #expect(client.endedWithoutCloseNotify)
    }

    @Test func aCertificateForAnotherNameFailsVerification() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let client = try TLSMachine(context: try pki.clientContext(), role: .client(serverName: "wrong.example"))
        let server = try TLSMachine(context: try pki.serverContext(), role: .server)
        let error = try #require(throws: TLSError.self) { try handshakeInMemory(client: client, server: server) }
        #expect(error.kind == .hostnameMismatch)
        #expect(error.message == "hostname mismatch")
        #expect(error.context == "TLS handshake with wrong.example")
        #expect(OpenSSLErrorQueue.isEmpty)
        // The client's alert tells the server why.
        try shuttle(from: client, to: server)
        let serverError = try #require(throws: TLSError.self) { try server.handshake() }
        #expect(serverError.kind == .handshakeFailed)
    }

    @Test func anUntrustedCertificateFailsVerification() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let context = try TLSContext.client(TLSConfiguration(useSystemCAStore: false))
        let client = try TLSMachine(context: context, role: .client(serverName: "localhost"))
        let server = try TLSMachine(context: try pki.serverContext(), role: .server)
        let error = try #require(throws: TLSError.self) { try handshakeInMemory(client: client, server: server) }
        #expect(error.kind == .certificateVerificationFailed)
        #expect(error.message == "self-signed certificate")
    }

    @Test func anEndDuringTheHandshakeFailsIt() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let server = try TLSMachine(context: try pki.serverContext(), role: .server)
        #expect(try server.handshake() == .needsCiphertext)
        server.receivedEndOfStream()
        let error = try #require(throws: TLSError.self) { try server.handshake() }
        #expect(error.kind == .handshakeFailed)
        #expect(error.message == "the peer closed the connection during the handshake")
        #expect(!server.queueCloseNotify(), "no close_notify after a failed handshake")
    }

    @Test func bytesThatAreNotTLSFailTheHandshakeWithoutCrashing() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let client = try TLSMachine(context: try pki.clientContext(), role: .client(serverName: "localhost"))
        #expect(try client.handshake() == .needsCiphertext)
        #expect(client.pendingCiphertextCount > 0, "the ClientHello waits to be sent")
        try Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8).withUnsafeBytes { try client.receivedCiphertext($0) }
        let error = try #require(throws: TLSError.self) { try client.handshake() }
        #expect(error.kind == .handshakeFailed)
        #expect(error.message == "wrong version number")
        #expect(OpenSSLErrorQueue.isEmpty)

        // Noise of every size at a server, and after a good handshake at a client: errors only.
        var generator = SystemRandomNumberGenerator()
        for size in [1, 5, 6, 100, 16_389, 70_000] {
            let noise = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let server = try TLSMachine(context: try pki.serverContext(), role: .server)
            try noise.withUnsafeBytes { try server.receivedCiphertext($0) }
            server.receivedEndOfStream()
            #expect(throws: TLSError.self) { try server.handshake() }

            let goodClient = try TLSMachine(context: try pki.clientContext(), role: .client(serverName: "localhost"))
            let goodServer = try TLSMachine(context: try pki.serverContext(), role: .server)
            try handshakeInMemory(client: goodClient, server: goodServer)
            try noise.withUnsafeBytes { try goodClient.receivedCiphertext($0) }
            goodClient.receivedEndOfStream()
            do {
                _ = try readAvailable(goodClient)
            } catch let error as TLSError {
                #expect(error.kind == .protocolError)
            }
            #expect(OpenSSLErrorQueue.isEmpty)
        }
    }

    @Test func sessionTicketsLeaveAnIdleSessionIdleAndDataDoesNot() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let client = try TLSMachine(context: try pki.clientContext(), role: .client(serverName: "localhost"))
        let server = try TLSMachine(context: try pki.serverContext(), role: .server)
        #expect(!client.isIdle(), "not before the handshake")
        try handshakeInMemory(client: client, server: server)
        // The server's TLS 1.3 session tickets reached the client after its handshake ended.
        #expect(client.isIdle())
        try writeAll(server, Array("unasked".utf8))
        try shuttle(from: server, to: client)
        #expect(!client.isIdle())
        #expect(try readAvailable(client).bytes == Array("unasked".utf8))
        #expect(client.isIdle())
        client.queueCloseNotify()
        #expect(!client.isIdle(), "a closing session carries nothing more")
    }

    @Test func rolesMustMatchTheContext() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let asServer = try #require(throws: TLSError.self) { try TLSMachine(context: try pki.clientContext(), role: .server) }
        #expect(asServer.kind == .configuration)
        let asClient = try #require(throws: TLSError.self) {
            try TLSMachine(context: try pki.serverContext(), role: .client(serverName: "localhost"))
        }
        #expect(asClient.kind == .configuration)
        let emptyName = try #require(throws: TLSError.self) {
            try TLSMachine(context: try pki.clientContext(), role: .client(serverName: ""))
        }
        #expect(emptyName.kind == .configuration)
    }
}
