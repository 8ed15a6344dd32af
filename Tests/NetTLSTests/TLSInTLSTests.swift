import NetCore
import TestSupport
import Testing

@testable import NetTLS

/// TLS inside TLS, as through an HTTPS proxy: the inner session's ciphertext is the outer
/// session's plaintext. Once in memory with no socket, then with both drivers' loop flavour
/// over a real socket pair.
@Suite(.serialized) struct TLSInTLSTests {
    @Test func innerMachinesTalkThroughOuterMachinesInMemory() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let outerClient = try TLSMachine(context: try pki.clientContext(), role: .client(serverName: "localhost"))
        let outerServer = try TLSMachine(context: try pki.serverContext(), role: .server)
        try handshakeInMemory(client: outerClient, server: outerServer)
        let innerClient = try TLSMachine(context: try pki.clientContext(), role: .client(serverName: "127.0.0.1"))
        let innerServer = try TLSMachine(context: try pki.serverContext(), role: .server)

        /// Inner ciphertext from `a`, carried as plaintext from `outerA` to `outerB`, into `b`.
        func carry(_ a: TLSMachine, via outerA: TLSMachine, _ outerB: TLSMachine, to b: TLSMachine) throws {
            var buffer = [UInt8](repeating: 0, count: 16 << 10)
            while true {
                let n = buffer.withUnsafeMutableBytes { a.takeCiphertext(into: $0) }
                if n == 0 { break }
                try writeAll(outerA, Array(buffer[0..<n]))
            }
            try shuttle(from: outerA, to: outerB)
            let carried = try readAvailable(outerB).bytes
            try carried.withUnsafeBytes { try b.receivedCiphertext($0) }
        }

        var done = false
        for _ in 0..<10 where !done {
            let clientStep = try innerClient.handshake()
            try carry(innerClient, via: outerClient, outerServer, to: innerServer)
            let serverStep = try innerServer.handshake()
            try carry(innerServer, via: outerServer, outerClient, to: innerClient)
            done = clientStep == .done(0) && serverStep == .done(0)
        }
        #expect(done)
        let payload = tlsPattern(100_000, seed: 7)
        try writeAll(innerClient, payload)
        try carry(innerClient, via: outerClient, outerServer, to: innerServer)
        #expect(try readAvailable(innerServer).bytes == payload)
        try writeAll(innerServer, payload.reversed())
        try carry(innerServer, via: outerServer, outerClient, to: innerClient)
        #expect(try readAvailable(innerClient).bytes == payload.reversed())
    }

    @Test func aTLSStreamRunsOverATLSStreamOnASocketPair() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let payload = tlsPattern(1 << 20, seed: 9)
        let (echoed, innerVersion, serverSawCloseNotify) = try runTasklet(loopName: "nettls-test") {
            () async throws -> ([UInt8], String, Bool) in
            let (near, far) = try StreamSocket.makePair()
            let server = Loop.current!.spawn(name: "tls-in-tls-server") { () async throws -> Bool in  // a tasklet has a loop
                let outer = try await TLSStream.accept(over: far, context: serverContext, timeout: tlsWait)
                let inner = try await TLSStream.accept(over: outer, context: serverContext, timeout: tlsWait)
                defer { inner.close() }
                try await echoUntilEndOfStream(inner)
                return !inner.endedWithoutCloseNotify
            }
            let outer = try await TLSStream.connect(over: near, context: clientContext, serverName: "localhost", timeout: tlsWait)
            let inner = try await TLSStream.connect(over: outer, context: clientContext, serverName: "127.0.0.1", timeout: tlsWait)
            let writer = Loop.current!.spawn(name: "tls-in-tls-writer") { try await writeAll(inner, payload) }
            let received = try await readExactly(inner, count: payload.count)
            try await writer.value
            #expect(inner.isReusable)
            let version = inner.protocolVersion
            inner.close()  // close_notify through the outer session, then the outer's own
            #expect(near.isClosed, "closing the inner stream closes everything under it")
            return (received, version, try await server.value)
        }
        #expect(echoed == payload)
        #expect(innerVersion == "TLSv1.3")
        #expect(serverSawCloseNotify, "the inner close_notify went out through the outer stream without waiting")
    }

    @Test func theInnerSessionVerifiesItsOwnPeer() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let (error, outerClosed) = try runTasklet(loopName: "nettls-test") { () async throws -> ((any Error)?, Bool) in
            let (near, far) = try StreamSocket.makePair()
            Loop.current!.spawn(name: "tls-in-tls-server") {  // a tasklet has a loop
                let outer = try await TLSStream.accept(over: far, context: serverContext, timeout: tlsWait)
                defer { outer.close() }
                _ = try? await TLSStream.accept(over: outer, context: serverContext, timeout: tlsWait)
            }
            let outer = try await TLSStream.connect(over: near, context: clientContext, serverName: "localhost", timeout: tlsWait)
            do {
                _ = try await TLSStream.connect(over: outer, context: clientContext, serverName: "wrong.example", timeout: tlsWait)
                return (nil, near.isClosed)
            } catch {
                return (error, near.isClosed)
            }
        }
        let tlsError = try #require(error as? TLSError)
        #expect(tlsError.kind == .hostnameMismatch)
        #expect(outerClosed, "a failed inner handshake closes its transport, the outer stream")
    }

    @Test func aBareEndUnderTheStreamIsTruncation() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let (got, truncated) = try runTasklet(loopName: "nettls-test") { () async throws -> ([UInt8], Bool) in
            let (near, far) = try StreamSocket.makePair()
            Loop.current!.spawn(name: "truncating-server") {  // a tasklet has a loop
                let stream = try await TLSStream.accept(over: far, context: serverContext, timeout: tlsWait)
                try await writeAll(stream, tlsPattern(5_000))
                stream.transport.close()  // under the TLS session: no close_notify
            }
            let stream = try await TLSStream.connect(over: near, context: clientContext, serverName: "localhost", timeout: tlsWait)
            defer { stream.close() }
            let got = try await readExactly(stream, count: 5_000)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 1)
            defer { buffer.deallocate() }
            #expect(try await stream.read(into: buffer, timeout: tlsWait) == 0)
            #expect(!stream.isReusable)
            return (got, stream.endedWithoutCloseNotify)
        }
        #expect(got == tlsPattern(5_000))
        #expect(truncated)
    }
}
