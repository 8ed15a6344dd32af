import HTTPTestServer
import NetCore
import NetTLS
import TestSupport
import Testing

@testable import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

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
    return try runTasklet(loopName: "tls-test") { () async throws -> Result<[UInt8], any Error> in
        let server = Loop.current!.spawn(name: "tls-http-server") {  // a tasklet always has a current loop
            defer { listener.close() }
            let socket = try await listener.accept(timeout: tlsWait)
            let stream = try await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait)
            defer { stream.close() }
            var request: [UInt8] = []
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                let part = try await readSome(stream)
                guard !part.isEmpty else { throw TestFailure("the client closed before its request ended") }
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
