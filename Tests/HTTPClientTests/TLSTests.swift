import HTTPTestServer
import NetCore
import NetTLS
import TestSupport
import Testing

@testable import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

/// TLS over real loopback sockets: both engines, verification outcomes, bad peers, reuse.
/// Every wait has a timeout, so a bug fails a test instead of hanging it.
@Suite(.serialized) struct TLSTests {
    // MARK: - Data paths

    @Test func echoBetweenLoopClientAndLoopServer() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (listener, address) = try tlsListener(on: "127.0.0.1")
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let payload = tlsPattern(300_000)
        let (echoed, version) = try runTasklet(loopName: "tls-test") { () async throws -> ([UInt8], String) in
            let server = Loop.current!.spawn(name: "tls-echo-server") {  // a tasklet always has a current loop
                defer { listener.close() }
                let socket = try await listener.accept(timeout: tlsWait)
                let stream = try await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait)
                defer { stream.close() }
                try await echoUntilEndOfStream(stream)
            }
            let socket = try await StreamSocket.connect(to: address, timeout: tlsWait)
            let stream = try await TLSStream.connect(over: socket, context: clientContext, serverName: "localhost", timeout: tlsWait)
            let writer = Loop.current!.spawn(name: "tls-echo-writer") { try await writeAll(stream, payload) }
            let received = try await readExactly(stream, count: payload.count)
            try await writer.value
            let version = stream.protocolVersion
            stream.close()  // close_notify: the server's read returns 0 and it finishes
            try await server.value
            return (received, version)
        }
        #expect(echoed == payload)
        #expect(version == "TLSv1.3")
    }

    @Test func blockingClientOnAThreadAgainstLoopServerOnItsThread() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (listener, address) = try tlsListener(on: "127.0.0.1")
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let request = tlsPattern(1 << 20, seed: 1)
        let response = tlsPattern(1 << 20, seed: 2)

        // The server reads the whole request before answering: a blocking client cannot read
        // and write at once, so an echo would deadlock on full socket buffers.
        let loop = try Loop(name: "tls-server-loop")
        let server = loop.spawn(name: "tls-server") { () async throws -> Bool in
            defer { listener.close() }
            let socket = try await listener.accept(timeout: tlsWait)
            let stream = try await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait)
            defer { stream.close() }
            let got = try await readExactly(stream, count: request.count)
            try await writeAll(stream, response)
            return got == request
        }
        let loopThread = TestThread.start { loop.run() }

        let outcome = Box<Result<([UInt8], String), any Error>?>(nil)
        let clientThread = TestThread.start {
            outcome.value = Result {
                let socket = try BlockingSocket.connect(to: address, timeout: tlsWait)
                let stream = try BlockingTLSStream.connect(over: socket, context: clientContext, serverName: "127.0.0.1", timeout: tlsWait)
                defer { stream.close() }
                try request.withUnsafeBytes { try stream.write($0, timeout: tlsWait) }
                var received = [UInt8](repeating: 0, count: response.count)
                var filled = 0
                while filled < received.count {
                    let n = try received.withUnsafeMutableBytes {
                        try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), timeout: tlsWait)
                    }
                    guard n > 0 else { throw TestFailure("end of stream after \(filled) bytes") }
                    filled += n
                }
                return (received, stream.protocolVersion)
            }
        }
        clientThread.join()
        loopThread.join()
        let (received, version) = try #require(outcome.value).get()
        #expect(received == response)
        #expect(version == "TLSv1.3")
        #expect(try #require(server.result).get() == true, "the server got the request intact")
    }

    @Test func severalMebibytesEachWayAtOnceWaitForWritability() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (listener, address) = try tlsListener(on: "127.0.0.1")
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let upload = tlsPattern(6 << 20, seed: 3)
        let download = tlsPattern(6 << 20, seed: 4)
        // The parking itself happens in the transport (StreamSocket.write) since TLS runs over
        // memory BIOs; what this test still proves is that both directions at once complete.
        let (uploadIntact, downloaded) = try runTasklet(loopName: "tls-test") {
            () async throws -> (Bool, [UInt8]) in
            let server = Loop.current!.spawn(name: "tls-bulk-server") { () async throws -> Bool in  // a tasklet has a loop
                defer { listener.close() }
                let socket = try await listener.accept(timeout: tlsWait)
                shrinkSendBuffer(socket.fileDescriptor)
                let stream = try await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait)
                defer { stream.close() }
                let writer = Loop.current!.spawn(name: "tls-bulk-server-writer") { try await writeAll(stream, download) }
                let got = try await readExactly(stream, count: upload.count)
                try await writer.value
                return got == upload
            }
            let socket = try await StreamSocket.connect(to: address, timeout: tlsWait)
            // Small send buffers: both writers must run out of room and park on WANT_WRITE many times.
            shrinkSendBuffer(socket.fileDescriptor)
            let stream = try await TLSStream.connect(over: socket, context: clientContext, serverName: "localhost", timeout: tlsWait)
            defer { stream.close() }
            let writer = Loop.current!.spawn(name: "tls-bulk-client-writer") { try await writeAll(stream, upload) }
            let got = try await readExactly(stream, count: download.count)
            try await writer.value
            let intact = try await server.value
            return (intact, got)
        }
        #expect(uploadIntact)
        #expect(downloaded == download)
    }

    // MARK: - Verification

    @Test func defaultVerificationRejectsTheSelfSignedCertificate() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let error = try #require(try handshakeError(pki: pki, client: TLSConfiguration(), serverName: "localhost") as? TLSError)
        #expect(error.kind == .certificateVerificationFailed)
        #expect(error.message == "self-signed certificate")
        #expect(error.description.contains("CA file"))
        #expect(error.description.contains("turn verification off (insecure)"))
    }

    @Test(arguments: [("127.0.0.1", "localhost"), ("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("::1", "[::1]")])
    func theCertificateAsCAFileIsTrusted(listenOn host: String, serverName: String) throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let configuration = TLSConfiguration(caFile: pki.certificateFile)  // on top of the system store
        let error = try handshakeError(pki: pki, client: configuration, serverName: serverName, listenOn: host)
        #expect(error == nil, "\(String(describing: error))")
    }

    @Test func verificationOffAcceptsAnyCertificate() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let configuration = TLSConfiguration(verifyCertificates: false)
        let error = try handshakeError(pki: pki, client: configuration, serverName: "wrong.example")
        #expect(error == nil, "\(String(describing: error))")
    }

    /// 127.0.0.2 is loopback on Linux too, but the certificate lists only 127.0.0.1 and ::1.
    @Test(arguments: [
        ("127.0.0.1", "wrong.example", "hostname mismatch"),
        ("127.0.0.2", "127.0.0.2", "IP address mismatch"),
    ])
    func aCertificateForAnotherNameIsAHostnameMismatch(listenOn host: String, serverName: String, reason: String) throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let configuration = TLSConfiguration(caFile: pki.certificateFile)
        let error = try #require(try handshakeError(pki: pki, client: configuration, serverName: serverName, listenOn: host) as? TLSError)
        #expect(error.kind == .hostnameMismatch)
        #expect(error.message == reason)
        #expect(error.description.contains("turn verification off (insecure)"))
    }

    @Test func blockingClientReportsVerificationFailureToo() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (listener, address) = try tlsListener(on: "127.0.0.1")
        let serverContext = try pki.serverContext()
        let loop = try Loop(name: "tls-server-loop")
        loop.spawn(name: "tls-server") {
            defer { listener.close() }
            let socket = try await listener.accept(timeout: tlsWait)
            _ = try? await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait)
        }
        let loopThread = TestThread.start { loop.run() }
        let outcome = Box<(any Error)?>(nil)
        let clientThread = TestThread.start {
            do {
                let context = try TLSContext.client(TLSConfiguration(useSystemCAStore: false))
                let socket = try BlockingSocket.connect(to: address, timeout: tlsWait)
                _ = try BlockingTLSStream.connect(over: socket, context: context, serverName: "localhost", timeout: tlsWait)
            } catch {
                outcome.value = error
            }
        }
        clientThread.join()
        loopThread.join()
        let error = try #require(outcome.value as? TLSError)
        #expect(error.kind == .certificateVerificationFailed)
        #expect(error.message == "self-signed certificate")
    }

    // MARK: - Configuration

    @Test func aMissingCAFileIsAConfigurationErrorNamingThePath() throws {
        let path = "/nonexistent-\(getpid())/ca.pem"
        let error = try #require(throws: TLSError.self) { try TLSContext.client(TLSConfiguration(caFile: path)) }
        #expect(error.kind == .configuration)
        #expect(error.message.contains(path))
        #expect(OpenSSLErrorQueue.isEmpty)
    }

    @Test func aCAFileWithoutCertificatesIsAConfigurationErrorNamingThePath() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        // The key file is PEM, but holds no certificate.
        let error = try #require(throws: TLSError.self) { try TLSContext.client(TLSConfiguration(caFile: pki.privateKeyFile)) }
        #expect(error.kind == .configuration)
        #expect(error.message.contains(pki.privateKeyFile))
    }

    @Test func aServerWithAMissingKeyFileIsAConfigurationError() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let missing = pki.directory + "/missing-key.pem"
        let error = try #require(throws: TLSError.self) {
            try TLSContext.server(certificateFile: pki.certificateFile, privateKeyFile: missing)
        }
        #expect(error.kind == .configuration)
        #expect(error.message.contains(missing))
    }

    // MARK: - Bad peers

    @Test func aPlainHTTPPeerFailsTheHandshake() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (listener, address) = try tlsListener(on: "127.0.0.1")
        let clientContext = try pki.clientContext()
        let (error, queueEmpty) = try runTasklet(loopName: "tls-test") { () async throws -> ((any Error)?, Bool) in
            Loop.current!.spawn(name: "plain-http-server") {  // a tasklet always has a current loop
                defer { listener.close() }
                let socket = try await listener.accept(timeout: tlsWait)
                defer { socket.close() }
                _ = try await socket.read(maxBytes: 4096, timeout: tlsWait)  // the ClientHello
                try await socket.write("HTTP/1.1 400 Bad Request\r\n\r\n", timeout: tlsWait)
                while try await !socket.read(maxBytes: 4096, timeout: tlsWait).isEmpty {}
            }
            let socket = try await StreamSocket.connect(to: address, timeout: tlsWait)
            do {
                _ = try await TLSStream.connect(over: socket, context: clientContext, serverName: "localhost", timeout: tlsWait)
                return (nil, OpenSSLErrorQueue.isEmpty)
            } catch {
                #expect(socket.isClosed, "a failed handshake closes the socket")
                return (error, OpenSSLErrorQueue.isEmpty)
            }
        }
        let tlsError = try #require(error as? TLSError)
        #expect(tlsError.kind == .handshakeFailed)
        #expect(tlsError.message == "wrong version number")
        #expect(queueEmpty, "no OpenSSL error is left behind for the next connection on this thread")
    }

    @Test func aPeerClosingMidHandshakeIsAnErrorOnBothSides() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let (clientError, serverError) = try runTasklet(loopName: "tls-test") { () async throws -> ((any Error)?, (any Error)?) in
            // A server that reads the ClientHello, then hangs up.
            let (hangUpListener, hangUpAddress) = try tlsListener(on: "127.0.0.1")
            Loop.current!.spawn(name: "hang-up-server") {  // a tasklet always has a current loop
                defer { hangUpListener.close() }
                let socket = try await hangUpListener.accept(timeout: tlsWait)
                _ = try await socket.read(maxBytes: 4096, timeout: tlsWait)
                socket.close()
            }
            var clientError: (any Error)?
            do {
                let socket = try await StreamSocket.connect(to: hangUpAddress, timeout: tlsWait)
                _ = try await TLSStream.connect(over: socket, context: clientContext, serverName: "localhost", timeout: tlsWait)
            } catch { clientError = error }

            // A client that connects and hangs up before saying anything.
            let (listener, address) = try tlsListener(on: "127.0.0.1")
            let server = Loop.current!.spawn(name: "tls-server") { () async throws -> (any Error)? in  // as above
                defer { listener.close() }
                let socket = try await listener.accept(timeout: tlsWait)
                do {
                    _ = try await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait)
                    return nil
                } catch { return error }
            }
            let socket = try await StreamSocket.connect(to: address, timeout: tlsWait)
            socket.close()
            return (clientError, try await server.value)
        }
        let client = try #require(clientError as? TLSError)
        #expect(client.kind == .handshakeFailed)
        #expect(client.message == "the peer closed the connection during the handshake")
        let server = try #require(serverError as? TLSError)
        #expect(server.kind == .handshakeFailed)
        #expect(server.message == "the peer closed the connection during the handshake")
    }

    @Test func aSilentPeerTimesOutTheHandshake() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (listener, address) = try tlsListener(on: "127.0.0.1")
        let clientContext = try pki.clientContext()
        let (error, elapsed) = try runTasklet(loopName: "tls-test") { () async throws -> ((any Error)?, Duration) in
            Loop.current!.spawn(name: "silent-server") {  // a tasklet always has a current loop
                defer { listener.close() }
                let socket = try await listener.accept(timeout: tlsWait)
                defer { socket.close() }
                // Never answers; returns when the client gives up and closes.
                while try await !socket.read(maxBytes: 4096, timeout: tlsWait).isEmpty {}
            }
            let socket = try await StreamSocket.connect(to: address, timeout: tlsWait)
            let start = ContinuousClock.now
            do {
                _ = try await TLSStream.connect(over: socket, context: clientContext, serverName: "localhost", timeout: .milliseconds(300))
                return (nil, ContinuousClock.now - start)
            } catch {
                return (error, ContinuousClock.now - start)
            }
        }
        #expect((error as? NetError)?.kind == .timedOut)
        #expect(elapsed < .seconds(5))
    }

    // MARK: - Reuse

    @Test func anIdleTLS13ConnectionIsReusableUntilThePeerCloses() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (listener, address) = try tlsListener(on: "127.0.0.1")
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let states = try runTasklet(loopName: "tls-test") { () async throws -> [String: Bool] in
            let loop = Loop.current!  // a tasklet always has a current loop
            let goOn = Channel<Int>(capacity: 1)
            loop.spawn(name: "tls-server") {
                defer { listener.close() }
                let socket = try await listener.accept(timeout: tlsWait)
                let stream = try await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait)
                let request = try await readExactly(stream, count: 5)
                try await writeAll(stream, request)  // the "response"
                _ = try await goOn.receive()
                stream.close()  // close_notify and FIN
            }
            var states: [String: Bool] = [:]
            let socket = try await StreamSocket.connect(to: address, timeout: tlsWait)
            let stream = try await TLSStream.connect(over: socket, context: clientContext, serverName: "localhost", timeout: tlsWait)
            defer { stream.close() }
            // TLS 1.3 servers send session tickets after the handshake: the socket turns
            // readable with no application data, which must not count against reuse.
            try await socket.waitUntilReadable(timeout: tlsWait)
            states["tickets pending"] = stream.isReusable
            states["tickets consumed"] = stream.isReusable
            try await writeAll(stream, [1, 2, 3, 4, 5])
            _ = try await readExactly(stream, count: 5)
            states["after an exchange"] = stream.isReusable
            try await goOn.send(1)
            try await socket.waitUntilReadable(timeout: tlsWait)
            states["peer closed"] = stream.isReusable
            stream.close()
            states["closed here"] = stream.isReusable
            return states
        }
        #expect(states["tickets pending"] == true)
        #expect(states["tickets consumed"] == true)
        #expect(states["after an exchange"] == true)
        #expect(states["peer closed"] == false)
        #expect(states["closed here"] == false)
    }

    @Test func unsolicitedBytesMakeAConnectionNotReusable() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let (listener, address) = try tlsListener(on: "127.0.0.1")
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let reusable = try runTasklet(loopName: "tls-test") { () async throws -> Bool in
            let loop = Loop.current!  // a tasklet always has a current loop
            let server = loop.spawn(name: "tls-server") {
                defer { listener.close() }
                let socket = try await listener.accept(timeout: tlsWait)
                let stream = try await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait)
                defer { stream.close() }
                try await writeAll(stream, Array("unasked".utf8))
                _ = try await readExactly(stream, count: 1)  // stays open until the client is done
            }
            let socket = try await StreamSocket.connect(to: address, timeout: tlsWait)
            let stream = try await TLSStream.connect(over: socket, context: clientContext, serverName: "localhost", timeout: tlsWait)
            defer { stream.close() }
            // Session tickets may wake the socket before the data arrives, and rightly read as
            // reusable; the data must not. A stream that wrongly stays reusable fails at the deadline.
            let deadline = ContinuousClock.now + .seconds(2)
            var reusable = true
            while reusable, ContinuousClock.now < deadline {
                try await socket.waitUntilReadable(timeout: .seconds(2))
                reusable = stream.isReusable
            }
            try await writeAll(stream, [0])
            try await server.value
            return reusable
        }
        #expect(reusable == false)
    }
}
