import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

private typealias Probe = ServerProbe

@Suite struct TestServerTests {
    // MARK: - Generated content

    @Test func fillMatchesByteAtOddOffsetsAndLengths() {
        for seed: UInt64 in [0, 1, 0xDEAD_BEEF, .max] {
            for offset: UInt64 in [0, 1, 3, 7, 8, 13, 1_000_003, .max - 2000] {
                for length in [0, 1, 5, 8, 9, 63, 1000] {
                    // One byte in, so the buffer is not 8-aligned either.
                    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: length + 1, alignment: 8)
                    defer { storage.deallocate() }
                    let buffer = UnsafeMutableRawBufferPointer(rebasing: storage[1...])
                    GeneratedContent.fill(buffer, seed: seed, offset: offset)
                    let expected = (0..<UInt64(length)).map { GeneratedContent.byte(seed: seed, offset: offset &+ $0) }
                    #expect(Array(buffer) == expected, "seed \(seed) offset \(offset) length \(length)")
                    #expect(GeneratedContent.firstMismatch(in: UnsafeRawBufferPointer(buffer), seed: seed, offset: offset) == nil)
                }
            }
        }
    }

    @Test func byteFollowsTheSpecifiedFormula() {
        // splitmix64(seed + (o / 8) * gamma), little-endian, written out independently here.
        func splitmix64(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for offset: UInt64 in [0, 5, 8, 23, 4096, 999_999] {
            let word = splitmix64(7 &+ (offset / 8) &* 0x9E37_79B9_7F4A_7C15)
            #expect(GeneratedContent.byte(seed: 7, offset: offset) == UInt8(truncatingIfNeeded: word >> (8 * (offset % 8))))
        }
    }

    @Test func firstMismatchFindsAFlippedByte() {
        let length = 4099
        for flip in [0, 1, 7, 8, 100, 2048, length - 1] {
            for offset: UInt64 in [0, 3, 8] {
                var bytes = [UInt8](repeating: 0, count: length)
                bytes.withUnsafeMutableBytes { GeneratedContent.fill($0, seed: 42, offset: offset) }
                bytes[flip] ^= 0x10
                let found = bytes.withUnsafeBytes { GeneratedContent.firstMismatch(in: $0, seed: 42, offset: offset) }
                #expect(found == flip)
            }
        }
        let empty = [UInt8]()
        #expect(empty.withUnsafeBytes { GeneratedContent.firstMismatch(in: $0, seed: 1, offset: 0) } == nil)
    }

    // MARK: - /gen

    @Test func contentLengthBodyIsTheGeneratedContent() throws {
        let response = try Probe.withServer { server in try await Probe.get(server, "/gen/100000?seed=7") }
        #expect(response.status == 200)
        #expect(response.field("Content-Length") == "100000")
        #expect(response.field("ETag") == "\"7-100000\"")
        #expect(response.field("Last-Modified") == "Sat, 01 Jan 2022 00:00:00 GMT")
        #expect(response.field("Accept-Ranges") == "bytes")
        #expect(response.body.count == 100_000)
        #expect(Probe.isContent(response.body, seed: 7))
    }

    @Test func largeBodyIsWrittenInBigPiecesAndArrivesIntact() throws {
        let size = 24 << 20
        let response = try Probe.withServer { server in try await Probe.get(server, "/gen/\(size)?seed=3") }
        #expect(response.body.count == size)
        #expect(Probe.isContent(response.body, seed: 3))
    }

    @Test func chunkedBodyWithTrailer() throws {
        let response = try Probe.withServer { server in
            try await Probe.get(server, TestServerURL().gen(50001).seed(9).chunked(chunk: 1000, trailer: true))
        }
        #expect(response.status == 200)
        #expect(response.field("Transfer-Encoding") == "chunked")
        #expect(response.field("Content-Length") == nil)
        #expect(response.body.count == 50001)
        #expect(Probe.isContent(response.body, seed: 9))
        #expect(response.trailers.first("X-Generated-Length") == "50001")
    }

    @Test func headersFromQuery() throws {
        let response = try Probe.withServer { server in
            try await Probe.get(
                server,
                TestServerURL().gen(10).etag("v2").query("mtime", "Sun,%2002%20Jan%202022%2000:00:00%20GMT").name("my%20file.bin").close())
        }
        #expect(response.field("ETag") == "\"v2\"")
        #expect(response.field("Last-Modified") == "Sun, 02 Jan 2022 00:00:00 GMT")
        #expect(response.field("Content-Disposition") == "attachment; filename=\"my file.bin\"")
        #expect(response.field("Connection") == "close")
        #expect(response.head.keepAlive == false)
    }

    @Test func sizeSuffixesAndBadSizes() throws {
        let (kibi, bad) = try Probe.withServer { server in
            (
                try await Probe.fetch(server, Probe.request("/gen/2k", method: "HEAD"), method: "HEAD"),
                try await Probe.get(server, "/gen/12x")
            )
        }
        #expect(kibi.field("Content-Length") == "2048")
        #expect(kibi.body.isEmpty)
        #expect(bad.status == 400)
    }

    // MARK: - Ranges

    @Test func rangeForms() throws {
        let results = try Probe.withServer { server in
            var results: [Probe.Response] = []
            for range in ["bytes=100-199", "bytes=900-", "bytes=-10", "bytes=990-5000"] {
                results.append(try await Probe.get(server, "/gen/1000?seed=5", fields: [("Range", range)]))
            }
            return results
        }
        let expected: [(UInt64, UInt64)] = [(100, 199), (900, 999), (990, 999), (990, 999)]
        for (response, (first, last)) in zip(results, expected) {
            #expect(response.status == 206)
            #expect(response.field("Content-Range") == "bytes \(first)-\(last)/1000")
            #expect(response.body.count == Int(last - first + 1))
            #expect(Probe.isContent(response.body, seed: 5, offset: first))
        }
    }

    @Test func unsatisfiableRangeIs416() throws {
        let responses = try Probe.withServer { server in
            [
                try await Probe.get(server, "/gen/1000", fields: [("Range", "bytes=1000-")]),
                try await Probe.get(server, "/gen/1000", fields: [("Range", "bytes=-0")]),
            ]
        }
        for response in responses {
            #expect(response.status == 416)
            #expect(response.field("Content-Range") == "bytes */1000")
        }
    }

    @Test func multiRangeMalformedRangeAndNoRangeServeTheWholeBody() throws {
        let responses = try Probe.withServer { server in
            [
                try await Probe.get(server, "/gen/1000", fields: [("Range", "bytes=0-1,5-6")]),
                try await Probe.get(server, "/gen/1000", fields: [("Range", "bytes=9-3")]),
                try await Probe.get(server, "/gen/1000", fields: [("Range", "lines=1-2")]),
                try await Probe.get(server, "/gen/1000?noRange=1", fields: [("Range", "bytes=0-9")]),
            ]
        }
        for response in responses {
            #expect(response.status == 200)
            #expect(response.body.count == 1000)
        }
        #expect(responses[3].field("Accept-Ranges") == "none")
    }

    @Test func ifRangeHonouredOnlyForTheCurrentValidator() throws {
        let responses = try Probe.withServer { server in
            let range = ("Range", "bytes=10-19")
            return [
                try await Probe.get(server, "/gen/100?seed=2", fields: [range, ("If-Range", "\"2-100\"")]),
                try await Probe.get(server, "/gen/100?seed=2", fields: [range, ("If-Range", "Sat, 01 Jan 2022 00:00:00 GMT")]),
                try await Probe.get(server, "/gen/100?seed=2", fields: [range, ("If-Range", "\"old\"")]),
                try await Probe.get(server, TestServerURL().gen(100).seed(2).etag("changed"), fields: [range, ("If-Range", "\"2-100\"")]),
            ]
        }
        #expect(responses.map(\.status) == [206, 206, 200, 200])
        #expect(responses[2].body.count == 100)
        #expect(Probe.isContent(responses[0].body, seed: 2, offset: 10))
    }

    // MARK: - Connections

    @Test func keepAliveServesTwoRequestsOnOneConnection() throws {
        let (first, second, head, stats) = try Probe.withServer { server in
            let socket = try await Probe.connect(server)
            defer { socket.close() }
            try await socket.write(Probe.request("/gen/3000?seed=1"))
            let first = try await Probe.readResponse(from: socket)
            try await socket.write(Probe.request("/gen/10", method: "HEAD"))
            let head = try await Probe.readResponse(from: socket, method: "HEAD")
            try await socket.write(Probe.request("/echo", method: "POST", body: "x"))
            let second = try await Probe.readResponse(from: socket)
            return (first, second, head, server.stats)
        }
        #expect(first.head.keepAlive)
        #expect(Probe.isContent(first.body, seed: 1))
        #expect(head.field("Content-Length") == "10")
        #expect(second.text.hasPrefix("POST /echo HTTP/1.1\n"))
        #expect(stats.connectionsAccepted == 1)
        #expect(stats.requestsServed == 3)
    }

    @Test func requestBodyOfAnotherRouteIsReadAndDiscarded() throws {
        let (first, second) = try Probe.withServer { server in
            let socket = try await Probe.connect(server)
            defer { socket.close() }
            try await socket.write(Probe.request("/gen/10", method: "POST", body: String(repeating: "b", count: 100_000)))
            let first = try await Probe.readResponse(from: socket)
            try await socket.write(Probe.request("/gen/20"))
            return (first, try await Probe.readResponse(from: socket))
        }
        #expect(first.body.count == 10)
        #expect(second.body.count == 20, "the POST body did not spill into the next request")
    }

    @Test func concurrentConnectionsEachGetTheirOwnTasklet() throws {
        let (sizes, stats) = try Probe.withServer { server in
            // A stalled download must not hold up the others.
            let sizes = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask { try await Probe.get(server, TestServerURL().gen(200000).fault(.stall(at: 1000, ms: 400))).body.count }
                for index in 0..<8 {
                    group.addTask {
                        let response = try await Probe.get(server, "/gen/\(300_000 + index)?seed=\(index)")
                        return Probe.isContent(response.body, seed: UInt64(index)) ? response.body.count : -1
                    }
                }
                var sizes: [Int] = []
                for try await size in group { sizes.append(size) }
                return sizes
            }
            return (sizes, server.stats)
        }
        #expect(sizes.last == 200_000, "the stalled response finishes last")
        #expect(Set(sizes) == Set((0..<8).map { 300_000 + $0 } + [200_000]))
        #expect(stats.connectionsAccepted == 9)
    }

    @Test func connectionCloseIsHonoured() throws {
        let (response, after) = try Probe.withServer { server in
            let socket = try await Probe.connect(server)
            defer { socket.close() }
            try await socket.write(Probe.request("/gen/10", fields: [("Connection", "close")]))
            let response = try await Probe.readResponse(from: socket)
            return (response, await Probe.drain(socket, timeout: .seconds(5)))
        }
        #expect(response.field("Connection") == "close")
        #expect(after.bytes == 0 && after.error == nil, "the server closed after the response")
    }

    @Test func idleKeepAliveConnectionIsClosedAfterTheTimeout() throws {
        let configuration = TestHTTPServer.Configuration(keepAliveTimeout: .milliseconds(200))
        let (elapsed, after) = try Probe.withServer(configuration) { server in
            let socket = try await Probe.connect(server)
            defer { socket.close() }
            try await socket.write(Probe.request("/status/200"))
            _ = try await Probe.readResponse(from: socket)
            let start = ContinuousClock.now
            let after = await Probe.drain(socket, timeout: .seconds(5))
            return (ContinuousClock.now - start, after)
        }
        #expect(after.bytes == 0 && after.error == nil)
        #expect(elapsed >= .milliseconds(150) && elapsed < .seconds(3))
    }

    @Test func badRequestHeadsAreRefused() throws {
        let responses = try Probe.withServer { server in
            [
                try await Probe.fetch(server, "GARBAGE\r\n\r\n"),
                try await Probe.fetch(server, "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"),
                try await Probe.fetch(server, "GET / HTTP/2.0\r\n\r\n"),
                try await Probe.fetch(server, "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 70_000) + "\r\n\r\n"),
            ]
        }
        #expect(responses.map(\.status) == [400, 400, 505, 431])
        #expect(responses.allSatisfy { !$0.head.keepAlive })
    }

    @Test func stopClosesOpenConnectionsAndIsIdempotent() throws {
        let server = try TestHTTPServer.start()
        let loop = try Loop(name: "stop-test")
        let outcome = Box<(Int, (any Error)?)?>(nil)
        loop.spawn {
            do {
                let socket = try await Probe.connect(server)
                defer { socket.close() }
                try await socket.write(Probe.request("/status/200"))
                _ = try await Probe.readResponse(from: socket)
                // Stop from another thread while this connection is open and idle.
                let stopper = TestThread.start { server.stop() }
                outcome.value = await Probe.drain(socket, timeout: .seconds(5))
                stopper.join()
            } catch {
                outcome.value = (-1, error)
            }
        }
        loop.run()
        server.stop()  // again: a no-op
        let result = try #require(outcome.value)
        #expect(result.0 == 0)
        if let error = result.1 {
            #expect((error as? NetError)?.kind == .connectionReset, "EOF or reset, never a timeout: \(error)")
        }
        #expect(server.stats.openConnections == 0)
    }

    // MARK: - Faults

    @Test func resetFaultGivesConnectionReset() throws {
        let outcome = try Probe.withServer { server in
            let socket = try await Probe.connect(server)
            defer { socket.close() }
            try await socket.write(Probe.request(TestServerURL().gen(10_000_000).fault(.reset(at: 1000))))
            return await Probe.drain(socket)
        }
        #expect((outcome.error as? NetError)?.kind == .connectionReset, "got \(String(describing: outcome.error))")
    }

    @Test func closeFaultTruncatesTheBody() throws {
        let received = Box<[UInt8]>([])
        let error = try Probe.withServer { server -> HTTPParseError? in
            let socket = try await Probe.connect(server)
            defer { socket.close() }
            try await socket.write(Probe.request(TestServerURL().gen(100000).seed(4).fault(.close(at: 5000))))
            do {
                _ = try await Probe.readResponse(from: socket, received: received)
                return nil
            } catch let error as HTTPParseError {
                return error
            }
        }
        guard case .truncated? = error else {
            Issue.record("expected HTTPParseError.truncated, got \(String(describing: error))")
            return
        }
        #expect(received.value.count == 5000)
        #expect(Probe.isContent(received.value, seed: 4))
    }

    @Test(arguments: [
        ("badStatusLine", "malformedStatusLine"), ("badHeader", "malformedHeaderLine"), ("obsFold", "obsoleteLineFolding"),
        ("badContentLength", "invalidContentLength"), ("conflictingContentLength", "conflictingContentLengths"),
        ("badChunkSize", "invalidChunkSize"), ("hugeHeader", "headersTooLarge"), ("garbage", "malformedStatusLine"),
        ("truncatedHead", "truncated"),
    ])
    func malformedKindsTripTheParser(kind: String, expected: String) throws {
        let error = try Probe.withServer { server -> HTTPParseError? in
            do {
                _ = try await Probe.get(server, TestServerURL().gen(100).fault(.malformed(kind: "\(kind)")))
                return nil
            } catch let error as HTTPParseError {
                return error
            }
        }
        #expect(error.map { Self.isCase($0, named: expected) } == true, "kind \(kind): \(String(describing: error))")
    }

    /// Whether `error` is the case called `name` (its payload ignored).
    static func isCase(_ error: HTTPParseError, named name: String) -> Bool {
        switch (error, name) {
        case (.malformedStatusLine, "malformedStatusLine"), (.malformedHeaderLine, "malformedHeaderLine"),
            (.obsoleteLineFolding, "obsoleteLineFolding"), (.invalidContentLength, "invalidContentLength"),
            (.conflictingContentLengths, "conflictingContentLengths"), (.invalidChunkSize, "invalidChunkSize"),
            (.headersTooLarge, "headersTooLarge"), (.truncated, "truncated"):
            return true
        default:
            return false
        }
    }

    @Test func stallDelaysTheBody() throws {
        let (response, elapsed) = try Probe.withServer { server in
            let start = ContinuousClock.now
            let response = try await Probe.get(server, TestServerURL().gen(20000).seed(6).fault(.stall(at: 10000, ms: 300)))
            return (response, ContinuousClock.now - start)
        }
        #expect(elapsed >= .milliseconds(300))
        #expect(response.body.count == 20000)
        #expect(Probe.isContent(response.body, seed: 6))
    }

    @Test func dripPacesTheBody() throws {
        let (response, elapsed) = try Probe.withServer { server in
            let start = ContinuousClock.now
            let response = try await Probe.get(server, TestServerURL().gen(3000).fault(.drip(rate: 10000)).chunked(chunk: 700))
            return (response, ContinuousClock.now - start)
        }
        #expect(elapsed >= .milliseconds(250), "3000 bytes at 10,000 B/s take 0.3 s")
        #expect(Probe.isContent(response.body, seed: 1) && response.body.count == 3000)
    }

    @Test func onceFiresOnlyTheFirstTime() throws {
        let (first, second, again, reset, afterReset) = try Probe.withServer { server in
            let first = try await Probe.get(server, TestServerURL().gen(1000).fault(.status(code: 503)).once("t1"))
            let second = try await Probe.get(server, TestServerURL().gen(1000).fault(.status(code: 503)).once("t1"))
            let again = try await Probe.get(server, TestServerURL().gen(1000).fault(.status(code: 500)))
            let socket = try await Probe.connect(server)
            defer { socket.close() }
            try await socket.write(Probe.request(TestServerURL().gen(1_000_000).fault(.reset(at: 10)).once("t2")))
            let reset = await Probe.drain(socket)
            let afterReset = try await Probe.get(server, TestServerURL().gen(1_000_000).fault(.reset(at: 10)).once("t2"))
            return (first, second, again, reset, afterReset)
        }
        #expect(first.status == 503)
        #expect(first.field("Retry-After") == "1")
        #expect(second.status == 200)
        #expect(Probe.isContent(second.body, seed: 1) && second.body.count == 1000)
        #expect(again.status == 500, "without once= the fault fires every time")
        #expect((reset.error as? NetError)?.kind == .connectionReset)
        #expect(afterReset.body.count == 1_000_000)
    }

    @Test func unknownFaultIs400() throws {
        let response = try Probe.withServer { server in try await Probe.get(server, TestServerURL().gen(10).query("fault", "explode")) }
        #expect(response.status == 400)
    }

    // MARK: - Other routes

    @Test func redirects() throws {
        let responses = try Probe.withServer { server in
            [
                try await Probe.get(server, "/redirect/301?to=%2Fgen%2F10%3Fseed%3D2"),
                try await Probe.get(server, "/redirect/307?to=http%3A%2F%2Fexample.com%2Fx"),
                try await Probe.get(server, "/redirect-chain/2?code=308"),
                try await Probe.get(server, "/redirect-chain/0"),
                try await Probe.get(server, "/redirect-loop"),
                try await Probe.get(server, "/redirect-loop2"),
                try await Probe.get(server, "/redirect/200?to=/x"),
            ]
        }
        #expect(responses.map(\.status) == [301, 307, 308, 302, 302, 302, 400])
        #expect(
            responses.map { $0.field("Location") } == [
                "/gen/10?seed=2", "http://example.com/x", "/redirect-chain/1?code=308", "/gen/1024", "/redirect-loop2",
                "/redirect-loop", nil,
            ])
    }

    @Test func echoShowsMethodFieldsAndBody() throws {
        let response = try Probe.withServer { server in
            try await Probe.fetch(server, Probe.request("/echo?a=1", method: "PUT", fields: [("X-Test", "yes")], body: "hello body"))
        }
        #expect(response.status == 200)
        #expect(response.text.hasPrefix("PUT /echo?a=1 HTTP/1.1\n"))
        #expect(response.text.contains("\nX-Test: yes\n"))
        #expect(response.text.hasSuffix("\n\nhello body"))
    }

    @Test func statusPagesAnd404() throws {
        let responses = try Probe.withServer { server in
            [
                try await Probe.get(server, "/status/418"), try await Probe.get(server, "/status/204"),
                try await Probe.get(server, "/status/304"), try await Probe.get(server, "/nowhere"),
            ]
        }
        #expect(responses.map(\.status) == [418, 204, 304, 404])
        #expect(responses[0].text.hasPrefix("418"))
        #expect(responses[1].body.isEmpty && responses[2].body.isEmpty)
        #expect(responses[1].field("Content-Length") == nil)
    }

    @Test func servesHTTPSWithATLSContext() throws {
        let directory = "/tmp/test-server-tls-\(getpid())"
        let files = try TestCertificate.generate(inDirectory: directory)
        let context = try TLSContext.server(certificateFile: files.certificateFile, privateKeyFile: files.privateKeyFile)
        let client = try TLSContext.client(TLSConfiguration(caFile: files.certificateFile, useSystemCAStore: false))
        let (response, baseURL) = try Probe.withServer(.init(tls: context)) { server in
            let socket = try await Probe.connect(server)
            let stream = try await TLSStream.connect(over: socket, context: client, serverName: "127.0.0.1", timeout: .seconds(5))
            defer { stream.close() }
            try await Probe.write(Probe.request("/gen/70000?seed=8"), to: stream)
            return (try await Probe.readResponse(from: stream), server.baseURL)
        }
        #expect(baseURL.hasPrefix("https://127.0.0.1:"))
        #expect(response.body.count == 70000)
        #expect(Probe.isContent(response.body, seed: 8))
    }
}
