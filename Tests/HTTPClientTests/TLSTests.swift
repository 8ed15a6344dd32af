import HTTPTestServer
import NetCore
import NetTLS
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
        let (echoed, version) = try runTLSTasklets { () async throws -> ([UInt8], String) in
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
        let loopThread = TLSTestThread.start { loop.run() }

        let outcome = TLSTestBox<Result<([UInt8], String), any Error>?>(nil)
        let clientThread = TLSTestThread.start {
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
                    guard n > 0 else { throw TLSTestFailure("end of stream after \(filled) bytes") }
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
        let (uploadIntact, downloaded) = try runTLSTasklets {
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
        let loopThread = TLSTestThread.start { loop.run() }
        let outcome = TLSTestBox<(any Error)?>(nil)
        let clientThread = TLSTestThread.start {
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
        let (error, queueEmpty) = try runTLSTasklets { () async throws -> ((any Error)?, Bool) in
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
        let (clientError, serverError) = try runTLSTasklets { () async throws -> ((any Error)?, (any Error)?) in
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
        let (error, elapsed) = try runTLSTasklets { () async throws -> ((any Error)?, Duration) in
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
        let states = try runTLSTasklets { () async throws -> [String: Bool] in
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
        let reusable = try runTLSTasklets { () async throws -> Bool in
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

// MARK: - Truncation through the HTTP client

/// How the test's HTTPS server ends the connection after its response.
private enum TLSServerEnding: Sendable {
    /// SSL_shutdown (close_notify), then close: an authenticated end.
    case closeNotify
    /// close(2) with no close_notify: a bare TCP FIN, which anyone on the path can forge.
    case bareFIN
}

/// Both engines' HTTP client against a TLS server that sends a response and ends one of two
/// ways. RFC 9112 §9.8: "When encountering an incomplete close, a client SHOULD treat as
/// completed all requests for which it has received either 1. as much data as specified in
/// the Content-Length header field or 2. the terminal zero-length chunk (when Transfer-Encoding
/// of chunked is used). A response that has neither chunked transfer coding nor Content-Length
/// is complete only if a valid closure alert has been received."
@Suite(.serialized) struct TLSTruncationTests {
    @Test(arguments: HTTPEngine.allCases)
    func aCloseDelimitedBodyEndsOnlyWithCloseNotify(engine: HTTPEngine) throws {
        let body = tlsPattern(50_000, seed: 3)
        let response = Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".utf8) + body
        #expect(try fetchOverTLS(response, ending: .closeNotify, engine: engine).get() == body)
        let cut = try fetchOverTLS(response, ending: .bareFIN, engine: engine)
        guard case .failure(HTTPClientError.parse(.truncated(let detail))) = cut else {
            Issue.record("a close-delimited body ended by a bare FIN must be truncated, got \(cut)")
            return
        }
        #expect(detail.contains("close_notify"))
    }

    @Test(arguments: HTTPEngine.allCases)
    func framedBodiesCutByABareFINStayTruncated(engine: HTTPEngine) throws {
        let short = Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".utf8) + tlsPattern(40)
        let lengthCut = try fetchOverTLS(short, ending: .bareFIN, engine: engine)
        guard case .failure(HTTPClientError.parse(.truncated("60 body bytes missing"))) = lengthCut else {
            Issue.record("expected truncated, got \(lengthCut)")
            return
        }
        let chunked = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n".utf8)
        let chunkCut = try fetchOverTLS(chunked, ending: .bareFIN, engine: engine)
        guard case .failure(HTTPClientError.parse(.truncated("in the chunked body"))) = chunkCut else {
            Issue.record("expected truncated, got \(chunkCut)")
            return
        }
        // Complete framed bodies are complete, whatever the close (§9.8 items 1 and 2).
        let whole = Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".utf8)
        #expect(try fetchOverTLS(whole, ending: .bareFIN, engine: engine).get() == Array("hello".utf8))
    }
}

/// One GET through `engine` to a one-shot TLS server that answers `response` and ends as told.
/// - Returns: the body, or the client's error.
private func fetchOverTLS(_ response: [UInt8], ending: TLSServerEnding, engine: HTTPEngine) throws -> Result<[UInt8], any Error> {
    let pki = try TLSTestPKI()
    defer { pki.remove() }
    let (listener, _) = try tlsListener(on: "127.0.0.1")
    let port = listener.port
    let serverContext = try pki.serverContext()
    let configuration = HTTPClientConfiguration(tls: TLSConfiguration(caFile: pki.certificateFile, useSystemCAStore: false))
    return try runTLSTasklets { () async throws -> Result<[UInt8], any Error> in
        let server = Loop.current!.spawn(name: "tls-http-server") {  // a tasklet always has a current loop
            defer { listener.close() }
            let socket = try await listener.accept(timeout: tlsWait)
            let stream = try await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait)
            defer { stream.close() }
            var request: [UInt8] = []
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                let part = try await readSome(stream)
                guard !part.isEmpty else { throw TLSTestFailure("the client closed before its request ended") }
                request += part
            }
            try await writeAll(stream, response)
            switch ending {
            case .closeNotify: stream.close()
            case .bareFIN: stream.transport.close()  // under the TLS session: no close_notify goes out
            }
        }
        let result: Result<[UInt8], any Error>
        do {
            let answer = try await Client(configuration: configuration).get("https://127.0.0.1:\(port)/", engine: engine)
            result = .success(try await answer.body.collect())
        } catch {
            result = .failure(error)
        }
        try await server.value
        return result
    }
}

/// What one read returns (empty at end of stream).
nonisolated(nonsending) private func readSome(_ stream: some AsyncByteStream) async throws -> [UInt8] {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16_384, alignment: 1)
    defer { buffer.deallocate() }
    let n = try await stream.read(into: buffer, timeout: tlsWait)
    return Array(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
}

// MARK: - Support (file-private: other test files in this target have their own helpers)

/// The longest any single wait in these tests may take before the test fails.
private let tlsWait: Duration = .seconds(10)

private struct TLSTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh self-signed certificate in its own temporary directory.
private struct TLSTestPKI {
    let directory: String
    let certificateFile: String
    let privateKeyFile: String

    init() throws {
        var template = Array("/tmp/tls-tests-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TLSTestFailure("mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        (certificateFile, privateKeyFile) = try TestCertificate.generate(inDirectory: directory)
    }

    func serverContext() throws -> TLSContext {
        try TLSContext.server(certificateFile: certificateFile, privateKeyFile: privateKeyFile)
    }

    /// Trusts only this certificate, so the tests do not depend on the machine's CA store.
    func clientContext() throws -> TLSContext {
        try TLSContext.client(TLSConfiguration(caFile: certificateFile, useSystemCAStore: false))
    }

    func remove() {
        unlink(certificateFile)
        unlink(privateKeyFile)
        rmdir(directory)
    }
}

private func tlsListener(on host: String) throws -> (TCPListener, SocketAddress) {
    let listener = try TCPListener(bindTo: SocketAddress(ip: host, port: 0))
    return (listener, try listener.localAddress())
}

/// Deterministic bytes: byte i is a function of i and the seed.
private func tlsPattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31) &+ ($0 >> 8) &+ seed) }
}

/// A small send buffer, so that a bulk transfer overruns it and waits for writability. (Not
/// the receive buffer: shrinking that on a connected socket makes Linux drop data the peer was
/// allowed to send, and the transfer stalls in retransmission back-off.)
private func shrinkSendBuffer(_ fd: Int32) {
    var size: Int32 = 16_384
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
}

/// A value one thread writes and another reads after a join or after `run()` returned
/// (both of which order the accesses).
private final class TLSTestBox<Value>: @unchecked Sendable {  // ordered by join/run, see above
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// A plain OS thread, for the blocking engine and for a loop of its own.
private final class TLSTestThread: @unchecked Sendable {  // `handle` is written once before start returns
    private var handle = pthread_t()

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    static func start(_ body: @escaping @Sendable () -> Void) -> TLSTestThread {
        let thread = TLSTestThread()
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        let rc = pthread_create(&thread.handle, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()  // passed retained just above
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return thread
    }

    func join() { pthread_join(handle, nil) }
}

/// Runs `body` as a tasklet on a fresh loop driven on the calling thread; returns its result.
private func runTLSTasklets<T: Sendable>(_ body: sending @escaping () async throws -> T) throws -> T {
    let loop = try Loop(name: "tls-test")
    let result = TLSTestBox<Result<T, any Error>?>(nil)
    loop.spawn(name: "test") {
        do { result.value = .success(try await body()) } catch { result.value = .failure(error) }
    }
    loop.run()
    #expect(loop.stats.activeWatchers == 0, "every watcher is stopped once the loop is idle")
    guard let outcome = result.value else { throw TLSTestFailure("the tasklet never finished") }
    return try outcome.get()
}

/// Runs one handshake against a loop server presenting `pki`'s certificate.
/// - Returns: the client's error, or nil when the handshake succeeded.
private func handshakeError(
    pki: TLSTestPKI, client configuration: TLSConfiguration, serverName: String, listenOn host: String = "127.0.0.1"
) throws -> (any Error)? {
    let (listener, address) = try tlsListener(on: host)
    let serverContext = try pki.serverContext()
    let clientContext = try TLSContext.client(configuration)
    return try runTLSTasklets { () async throws -> (any Error)? in
        Loop.current!.spawn(name: "tls-server") {  // a tasklet always has a current loop
            defer { listener.close() }
            let socket = try await listener.accept(timeout: tlsWait)
            // A client that rejects the certificate makes this fail: that is the client's story.
            guard let stream = try? await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait) else { return }
            defer { stream.close() }
            try await echoUntilEndOfStream(stream)
        }
        do {
            let socket = try await StreamSocket.connect(to: address, timeout: tlsWait)
            let stream = try await TLSStream.connect(over: socket, context: clientContext, serverName: serverName, timeout: tlsWait)
            defer { stream.close() }
            try await writeAll(stream, [42])
            guard try await readExactly(stream, count: 1) == [42] else { throw TLSTestFailure("echo mismatch") }
            return nil
        } catch {
            return error
        }
    }
}

/// Echoes until the peer ends the stream.
nonisolated(nonsending) private func echoUntilEndOfStream(_ stream: some AsyncByteStream) async throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32_768, alignment: 1)
    defer { buffer.deallocate() }
    while true {
        let n = try await stream.read(into: buffer, timeout: tlsWait)
        if n == 0 { return }
        try await stream.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), timeout: tlsWait)
    }
}

/// Writes all of `bytes` from a copy that no other code touches while the write parks.
nonisolated(nonsending) private func writeAll(_ stream: some AsyncByteStream, _ bytes: [UInt8]) async throws {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
    defer { copy.deallocate() }
    bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
    try await stream.write(UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]), timeout: tlsWait)
}

/// Reads exactly `count` bytes, failing at an early end of stream.
nonisolated(nonsending) private func readExactly(_ stream: some AsyncByteStream, count: Int) async throws -> [UInt8] {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
    defer { buffer.deallocate() }
    var filled = 0
    while filled < count {
        let n = try await stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<count]), timeout: tlsWait)
        guard n > 0 else { throw TLSTestFailure("end of stream after \(filled) of \(count) bytes") }
        filled += n
    }
    return Array(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
}
