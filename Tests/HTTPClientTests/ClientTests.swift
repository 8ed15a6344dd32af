import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The client against the project's test server, every test on both engines.
@Suite("Client on both engines")
struct ClientTests {
    @Test(arguments: HTTPEngine.allCases)
    func contentLengthBodyArrivesIntact(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/3000001?seed=7"
        let count = try onLoop {
            let response = try await Client().get(url, engine: engine)
            #expect(response.status == 200)
            #expect(response.engine == engine)
            #expect(response.headers.first("Content-Length") == "3000001")
            return try await readGenerated(response.body, seed: 7)
        }
        #expect(count == 3_000_001)
    }

    @Test(arguments: HTTPEngine.allCases)
    func chunkedBodyAsAsyncSequence(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = TestServerURL(server.baseURL).gen(300007).seed(3).chunked(chunk: 1000, trailer: true).string
        let bytes = try onLoop {
            let response = try await Client().get(url, engine: engine)
            #expect(response.headers.first("Transfer-Encoding") == "chunked")
            var all: [UInt8] = []
            for try await chunk in response.body { all += chunk }
            return all
        }
        #expect(bytes.count == 300_007)
        #expect(isGenerated(bytes, seed: 3))
    }

    @Test(arguments: HTTPEngine.allCases)
    func headHasHeadersAndNoBody(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/5000"
        let (length, body) = try onLoop {
            let response = try await Client().head(url, engine: engine)
            return (response.headers.first("Content-Length"), try await response.body.collect())
        }
        #expect(length == "5000")
        #expect(body.isEmpty)
    }

    @Test(arguments: HTTPEngine.allCases)
    func postSendsBodyAndCustomHeaders(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/echo"
        let echo = try onLoop {
            var request = try HTTPRequest(url, method: "POST", headers: [("X-Game", "tick 42")], body: Array("hello body".utf8))
            request.headers.add(name: "Accept", value: "text/plain")
            let response = try await Client().execute(request, engine: engine)
            return String(decoding: try await response.body.collect(), as: UTF8.self)
        }
        #expect(echo.hasPrefix("POST /echo HTTP/1.1"))
        #expect(echo.lowercased().contains("x-game: tick 42"))
        #expect(echo.lowercased().contains("accept: text/plain"))
        #expect(!echo.lowercased().contains("accept: */*"), "a given Accept replaces the default")
        #expect(echo.hasSuffix("\r\n\r\nhello body") || echo.hasSuffix("\n\nhello body"))
    }

    @Test(arguments: HTTPEngine.allCases)
    func notFoundIsAResponseNotAnError(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/nothing-here"
        let status = try onLoop { try await Client().get(url, engine: engine).status }
        #expect(status == 404)
    }

    // MARK: - Redirects

    @Test(arguments: HTTPEngine.allCases)
    func redirectMethodRules(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let base = server.baseURL
        let lines = try onLoop {
            let client = Client()
            var firstLines: [Int: String] = [:]
            for code in [301, 302, 303, 307, 308] {
                let request = try HTTPRequest("\(base)/redirect/\(code)?to=%2Fecho", method: "POST", body: Array("payload".utf8))
                let response = try await client.execute(request, engine: engine)
                #expect(response.redirects.map(\.path) == ["/echo"])
                let text = String(decoding: try await response.body.collect(), as: UTF8.self)
                firstLines[code] = String(text.prefix { $0 != "\r" && $0 != "\n" }) + (text.hasSuffix("payload") ? " +body" : "")
            }
            return firstLines
        }
        #expect(lines[301] == "GET /echo HTTP/1.1")
        #expect(lines[302] == "GET /echo HTTP/1.1")
        #expect(lines[303] == "GET /echo HTTP/1.1")
        #expect(lines[307] == "POST /echo HTTP/1.1 +body")
        #expect(lines[308] == "POST /echo HTTP/1.1 +body")
    }

    @Test(arguments: HTTPEngine.allCases)
    func redirectChainLimitAndLoop(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let base = server.baseURL
        try onLoop {
            let response = try await Client().get("\(base)/redirect-chain/3?code=302", engine: engine)
            #expect(response.redirects.count == 4)  // 2, 1, 0, then /gen/1024
            #expect(response.url.path == "/gen/1024")
            #expect(try await response.body.collect().count == 1024)

            let limited = Client(configuration: HTTPClientConfiguration(maxRedirects: 2))
            let tooMany = await errorThrown { _ = try await limited.get("\(base)/redirect-chain/3?code=302", engine: engine) }
            #expect(tooMany as? HTTPClientError == .tooManyRedirects(limit: 2))

            let loop = await errorThrown { _ = try await Client().get("\(base)/redirect-loop", engine: engine) }
            #expect(loop as? HTTPClientError == .redirectLoop("\(base)/redirect-loop"))

            let noFollow = Client(configuration: HTTPClientConfiguration(maxRedirects: 0))
            #expect(try await noFollow.get("\(base)/redirect/301?to=%2Fecho", engine: engine).status == 301)

            let missing = await errorThrown { _ = try await Client().get("\(base)/status/302", engine: engine) }
            #expect(missing as? HTTPClientError == .redirectWithoutLocation(status: 302))
        }
    }

    @Test(arguments: HTTPEngine.allCases)
    func credentialsStayWithTheirOrigin(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let port = server.port
        let (sameOrigin, otherOrigin) = try onLoop {
            let client = Client()
            let headers = [("Authorization", "Bearer secret"), ("Cookie", "session=1")]
            let same = try await client.get("http://127.0.0.1:\(port)/redirect/302?to=%2Fecho", headers: headers, engine: engine)
            let sameText = String(decoding: try await same.body.collect(), as: UTF8.self).lowercased()
            let target = "http%3A%2F%2Flocalhost%3A\(port)%2Fecho"
            let other = try await client.get("http://127.0.0.1:\(port)/redirect/302?to=\(target)", headers: headers, engine: engine)
            let otherText = String(decoding: try await other.body.collect(), as: UTF8.self).lowercased()
            return (sameText, otherText)
        }
        #expect(sameOrigin.contains("authorization: bearer secret"))
        #expect(!otherOrigin.contains("authorization"), "no credentials to another host")
        #expect(!otherOrigin.contains("cookie"))
        #expect(otherOrigin.contains("host: localhost:\(port)"))
    }

    // MARK: - Pool

    @Test(arguments: HTTPEngine.allCases)
    func keepAliveReusesOneConnection(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/20000?seed=5"
        try onLoop {
            let client = Client()
            for _ in 0..<5 {
                let response = try await client.get(url, engine: engine)
                #expect(try await readGenerated(response.body, seed: 5) == 20000)
            }
        }
        #expect(server.stats.connectionsAccepted == 1)
        #expect(server.stats.requestsServed == 5)
    }

    @Test(arguments: HTTPEngine.allCases)
    func perHostCapLimitsConnections(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = TestServerURL(server.baseURL).gen(200000).fault(.drip(rate: 2_000_000)).string
        let client = Client(configuration: HTTPClientConfiguration(maxConnectionsPerHost: 2))
        let loop = try Loop()
        let done = Box<Int?>(nil)
        done.value = 0
        for index in 0..<6 {
            loop.spawn(name: "fetch \(index)") {
                let response = try await client.get(url, engine: engine)
                _ = try await response.body.collect(upTo: 1 << 20)
                done.value! += 1
            }
        }
        loop.run()
        #expect(done.value == 6)
        #expect(server.stats.connectionsAccepted <= 2)
        #expect(server.stats.requestsServed == 6)
    }

    @Test(arguments: HTTPEngine.allCases)
    func idleConnectionsExpire(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/100"
        try onLoop {
            let client = Client(configuration: HTTPClientConfiguration(idleConnectionExpiry: .milliseconds(100)))
            _ = try await client.get(url, engine: engine).body.collect()
            try await sleep(for: .milliseconds(300))
            _ = try await client.get(url, engine: engine).body.collect()
        }
        #expect(server.stats.connectionsAccepted == 2)
    }

    /// A response that ends its connection (`Connection: close`) is not pooled: the next request
    /// opens a new connection instead of failing on the dead one and retrying. The next request is
    /// a POST, which the client never retries, so a reuse of the closed connection fails the
    /// request instead of hiding behind a retry; the GET after it is proven to reuse (nothing opened).
    @Test(arguments: HTTPEngine.allCases)
    func aConnectionCloseResponseIsNotReused(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let base = server.baseURL
        let client = Client()
        let clientStats = { engine == .loop ? client.stats : client.blockingClient.stats }
        let counts = try onLoop { () async throws -> [String] in
            var log: [String] = []
            func note(_ step: String) {
                let stats = clientStats()
                log.append(
                    "\(step): opened \(stats.connectionsOpened) idle \(stats.idleConnections) accepted \(server.stats.connectionsAccepted)")
            }
            let closing = try await client.get("\(base)/gen/100?close=1", engine: engine)
            #expect(closing.headers.first("Connection")?.lowercased() == "close")
            #expect(try await closing.body.collect().count == 100)
            note("close")
            let post = try HTTPRequest("\(base)/echo", method: "POST", body: Array("after close".utf8))
            let echoed = String(decoding: try await client.execute(post, engine: engine).body.collect(), as: UTF8.self)
            #expect(echoed.hasSuffix("after close"))
            note("post")
            #expect(try await client.get("\(base)/gen/100", engine: engine).body.collect().count == 100)
            note("get")
            return log
        }
        #expect(
            counts == [
                "close: opened 1 idle 0 accepted 1",  // a closing connection is never pooled
                "post: opened 2 idle 1 accepted 2",  // so the POST opened a new one, and it is kept
                "get: opened 2 idle 1 accepted 2",
            ])  // and the GET reused it
        #expect(server.stats.requestsServed == 3, "no request was sent twice")
    }

    /// A kept-alive connection that the server closes while it is idle in the pool is found
    /// closed before use (the pool probes it) and replaced; it is not sent a request. The
    /// request is a POST, never retried, so a send on the dead connection fails the test.
    @Test(arguments: HTTPEngine.allCases)
    func aConnectionTheServerClosedWhileIdleIsNotReused(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start(.init(keepAliveTimeout: .milliseconds(100)))
        defer { server.stop() }
        let base = server.baseURL
        let client = Client()
        let clientStats = { engine == .loop ? client.stats : client.blockingClient.stats }
        let counts = try onLoop { () async throws -> [String] in
            var log: [String] = []
            func note(_ step: String) {
                let stats = clientStats()
                log.append(
                    "\(step): opened \(stats.connectionsOpened) idle \(stats.idleConnections) accepted \(server.stats.connectionsAccepted)")
            }
            func post(_ text: String) async throws -> String {
                let request = try HTTPRequest("\(base)/echo", method: "POST", body: Array(text.utf8))
                return String(decoding: try await client.execute(request, engine: engine).body.collect(), as: UTF8.self)
            }
            #expect(try await post("first").hasSuffix("first"))
            note("first")
            // The server closes the idle connection after its keep-alive timeout; wait for that
            // (its count of open connections), not for a guessed time.
            let deadline = ContinuousClock.now + .seconds(10)
            while server.stats.openConnections > 0 {
                guard ContinuousClock.now < deadline else { throw TestFailure("the server never closed the idle connection") }
                try await sleep(for: .milliseconds(5))
            }
            #expect(try await post("second").hasSuffix("second"))
            note("second")
            #expect(try await post("third").hasSuffix("third"))
            note("third")
            return log
        }
        #expect(
            counts == [
                "first: opened 1 idle 1 accepted 1",
                "second: opened 2 idle 1 accepted 2",  // the closed one was dropped, a new one opened
                "third: opened 2 idle 1 accepted 2",
            ])  // and that one reused
        #expect(server.stats.requestsServed == 3)
    }

    @Test(arguments: HTTPEngine.allCases)
    func anAbandonedBodyClosesTheConnectionAndFreesTheSlot(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let base = server.baseURL
        try onLoop {
            let client = Client(configuration: HTTPClientConfiguration(maxConnectionsPerHost: 1))
            let big = try await client.get("\(base)/gen/50000000", engine: engine)
            #expect(try await big.body.nextChunk() != nil)
            big.body.discard()
            // With a cap of one, this waits forever unless the discarded body gave its slot back.
            let small = try await withTimeout(.seconds(5)) { try await client.get("\(base)/gen/10", engine: engine) }
            #expect(try await small.body.collect().count == 10)
        }
    }

    // MARK: - Timeouts

    @Test(arguments: HTTPEngine.allCases)
    func idleTimeoutFiresOnAStall(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = TestServerURL(server.baseURL).gen(100000).fault(.stall(at: 1000, ms: 3000)).string
        let error = try onLoop {
            let client = Client(configuration: HTTPClientConfiguration(idleTimeout: .milliseconds(300)))
            return await errorThrown { _ = try await client.get(url, engine: engine).body.collect() }
        }
        #expect(error as? HTTPClientError == .timedOut(.idle, .milliseconds(300)))
    }

    /// A server that answers with `head`, one byte every `interval` (faster than any idle
    /// timeout here), to a single request; nil when the client gave up before the end.
    private static func trickleHead(_ head: String, interval: Duration, from listener: TCPListener) async {
        defer { listener.close() }
        guard let socket = try? await listener.accept(timeout: .seconds(10)) else { return }
        defer { socket.close() }
        guard (try? await socket.read(maxBytes: 4096, timeout: .seconds(10))) != nil else { return }
        for byte in head.utf8 {
            guard (try? await socket.write([byte], timeout: .seconds(10))) != nil else { return }  // the client hung up
            try? await sleep(for: interval)
        }
    }

    /// 100 and 200 heads of about 120 bytes: a byte every 10 ms takes more than a second.
    private static let trickledHead =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Padding: "
        + String(repeating: "p", count: 48) + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

    // The idle timeout restarts with every byte, so alone it lets a server that trickles the
    // head hold a request forever; the head timeout bounds the whole head, 1xx included.
    @Test(arguments: HTTPEngine.allCases)
    func headTimeoutBoundsATrickledHead(engine: HTTPEngine) throws {
        let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        let port = listener.port
        let error = try onLoop { () async -> (any Error)? in
            let server = Loop.current!.spawn(name: "trickle") {
                await Self.trickleHead(Self.trickledHead, interval: .milliseconds(10), from: listener)
            }  // a tasklet has a loop
            let client = Client(configuration: HTTPClientConfiguration(idleTimeout: .seconds(2), headTimeout: .milliseconds(300)))
            let error = await errorThrown { _ = try await client.get("http://127.0.0.1:\(port)/", engine: engine) }
            _ = try? await server.value
            return error
        }
        #expect(error as? HTTPClientError == .timedOut(.head, .milliseconds(300)))
        #expect(HTTPClientError.timedOut(.head, .milliseconds(300)).isTransient)
    }

    // The same trickle with no head timeout completes: the idle timeout alone never fires on
    // it, which is what makes the test above one of the head timeout.
    @Test(arguments: HTTPEngine.allCases)
    func aTrickledHeadWithinTheHeadTimeoutSucceeds(engine: HTTPEngine) throws {
        let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        let port = listener.port
        let body = try onLoop { () async throws -> [UInt8] in
            let server = Loop.current!.spawn(name: "trickle") {
                await Self.trickleHead(Self.trickledHead, interval: .milliseconds(10), from: listener)
            }  // a tasklet has a loop
            let client = Client(configuration: HTTPClientConfiguration(idleTimeout: .seconds(2), headTimeout: nil))
            let body = try await client.get("http://127.0.0.1:\(port)/", engine: engine).body.collect()
            try await server.value
            return body
        }
        #expect(body == Array("ok".utf8))
    }

    @Test(arguments: HTTPEngine.allCases)
    func slowDripWithinTheIdleTimeoutSucceeds(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = TestServerURL(server.baseURL).gen(20000).seed(9).fault(.drip(rate: 40000)).string
        let bytes = try onLoop {
            let client = Client(configuration: HTTPClientConfiguration(idleTimeout: .seconds(2)))
            return try await client.get(url, engine: engine).body.collect()
        }
        #expect(bytes.count == 20000)
        #expect(isGenerated(bytes, seed: 9))
    }

    @Test(arguments: HTTPEngine.allCases)
    func totalTimeoutBoundsASlowBody(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = TestServerURL(server.baseURL).gen(1_000_000).fault(.drip(rate: 100000)).string
        let error = try onLoop {
            let client = Client(configuration: HTTPClientConfiguration(totalTimeout: .milliseconds(500)))
            return await errorThrown { _ = try await client.get(url, engine: engine).body.collect() }
        }
        #expect(error as? HTTPClientError == .timedOut(.total, .milliseconds(500)))
    }

    @Test(arguments: HTTPEngine.allCases)
    func refusedConnectionIsANetworkError(engine: HTTPEngine) throws {
        let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        let port = listener.port
        listener.close()  // nothing listens there now
        let error = try onLoop { await errorThrown { _ = try await Client().get("http://127.0.0.1:\(port)/", engine: engine) } }
        guard case .network(let netError)? = error as? HTTPClientError else {
            Issue.record("expected a network error, got \(String(describing: error))")
            return
        }
        #expect(netError.kind == .connectionRefused)
    }

    // MARK: - Ranges

    @Test(arguments: HTTPEngine.allCases)
    func rangesAreRequestedAndValidated(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/100000?seed=11"
        try onLoop {
            let client = Client()
            var request = try HTTPRequest(url)
            request.range = .from(99_000)
            var response = try await client.execute(request, engine: engine)
            #expect(response.status == 206)
            #expect(response.contentRange == (try ContentRange(parsing: "bytes 99000-99999/100000")))
            #expect(try await readGenerated(response.body, seed: 11, from: 99_000) == 1000)

            request.range = .bounded(first: 10, last: 19)
            response = try await client.execute(request, engine: engine)
            #expect(try await readGenerated(response.body, seed: 11, from: 10) == 10)

            request.range = .suffix(100)
            response = try await client.execute(request, engine: engine)
            #expect(response.contentRange?.first == 99_900)
            #expect(try await readGenerated(response.body, seed: 11, from: 99_900) == 100)

            request.range = .from(100_010)
            let unsatisfiable = await errorThrown { _ = try await client.execute(request, engine: engine) }
            #expect(unsatisfiable as? HTTPClientError == .rangeNotSatisfiable(completeLength: 100_000))
        }
    }

    @Test(arguments: HTTPEngine.allCases)
    func ifRangeAndIgnoredRanges(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let base = server.baseURL
        try onLoop {
            let client = Client()
            let first = try await client.head("\(base)/gen/5000?seed=2", engine: engine)
            let etag = try #require(first.headers.first("ETag"))
            let lastModified = try #require(first.headers.first("Last-Modified"))

            var request = try HTTPRequest("\(base)/gen/5000?seed=2")
            request.range = .from(4000)
            request.ifRange = .etag(etag)
            var response = try await client.execute(request, engine: engine)
            #expect(response.status == 206)
            #expect(!response.rangeIgnored)
            _ = try await response.body.collect()

            request.ifRange = .lastModified(lastModified)
            response = try await client.execute(request, engine: engine)
            #expect(response.status == 206)
            _ = try await response.body.collect()

            request.ifRange = .etag("\"changed\"")
            response = try await client.execute(request, engine: engine)
            #expect(response.status == 200)
            #expect(response.rangeIgnored, "a changed resource comes back whole")
            #expect(try await readGenerated(response.body, seed: 2) == 5000)

            var ignoring = try HTTPRequest(TestServerURL(base).gen(5000).seed(2).noRange().string)
            ignoring.range = .from(10)
            response = try await client.execute(ignoring, engine: engine)
            #expect(response.rangeIgnored)
            _ = try await response.body.collect()
        }
    }

    // MARK: - Faults

    @Test(arguments: HTTPEngine.allCases)
    func resetMidBodyIsATransientNetworkError(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = TestServerURL(server.baseURL).gen(1_000_000).fault(.reset(at: 300000)).string
        let error = try onLoop { await errorThrown { _ = try await Client().get(url, engine: engine).body.collect(upTo: 2 << 20) } }
        guard case .network(let netError)? = error as? HTTPClientError else {
            Issue.record("expected a network error, got \(String(describing: error))")
            return
        }
        #expect(netError.kind == .connectionReset)
        #expect((error as? HTTPClientError)?.isTransient == true)
    }

    @Test(arguments: HTTPEngine.allCases)
    func earlyCloseIsATruncatedBody(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = TestServerURL(server.baseURL).gen(100000).fault(.close(at: 5000)).string
        let error = try onLoop { await errorThrown { _ = try await Client().get(url, engine: engine).body.collect() } }
        #expect(error as? HTTPClientError == .parse(.truncated("95000 body bytes missing")))
    }

    @Test(arguments: HTTPEngine.allCases)
    func malformedHeadsNameTheirError(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let base = server.baseURL
        let errors = try onLoop {
            var found: [String: HTTPClientError] = [:]
            for kind in [
                "badStatusLine", "obsFold", "badContentLength", "conflictingContentLength", "badChunkSize", "hugeHeader", "truncatedHead",
                "garbage", "badHeader",
            ] {
                let error = await errorThrown {
                    _ = try await Client().get(TestServerURL(base).gen(1000).fault(.malformed(kind: "\(kind)")).string, engine: engine).body
                        .collect()
                }
                found[kind] = error as? HTTPClientError
            }
            return found
        }
        func parseError(_ kind: String) -> HTTPParseError? {
            if case .parse(let error)? = errors[kind] { return error }
            return nil
        }
        #expect(parseError("obsFold") == .obsoleteLineFolding)
        #expect(parseError("hugeHeader") == .headersTooLarge(limit: 64 << 10))
        #expect(parseError("truncatedHead") == .truncated("in the response head"))
        if case .malformedStatusLine? = parseError("badStatusLine") {
        } else {
            Issue.record("badStatusLine: \(String(describing: errors["badStatusLine"]))")
        }
        if case .invalidContentLength? = parseError("badContentLength") {
        } else {
            Issue.record("badContentLength: \(String(describing: errors["badContentLength"]))")
        }
        if case .conflictingContentLengths? = parseError("conflictingContentLength") {
        } else {
            Issue.record("conflicting: \(String(describing: errors["conflictingContentLength"]))")
        }
        if case .invalidChunkSize? = parseError("badChunkSize") {
        } else {
            Issue.record("badChunkSize: \(String(describing: errors["badChunkSize"]))")
        }
        #expect(parseError("garbage") != nil)
        #expect(parseError("badHeader") != nil)
        #expect(errors.values.allSatisfy { !$0.isTransient || { if case .parse(.truncated) = $0 { true } else { false } }($0) })
    }

    // MARK: - Backpressure

    /// The server's count of bytes written, not this process's RSS: tests run in parallel in one
    /// process, and another suite's 100 MiB download moved RSS by as much (CI, 2026-12-02). A
    /// client that read ahead would drain the socket and let the server write far more than the
    /// kernel's buffers hold; one that does not leaves the server parked once they are full.
    @Test(arguments: HTTPEngine.allCases)
    func aSlowReaderKeepsMemoryBounded(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/536870912?seed=4"
        let (sent, received) = try onLoop {
            let response = try await Client().get(url, engine: engine)
            #expect(try await response.body.nextChunk() != nil)
            try await sleep(for: .milliseconds(500))  // the reader stalls; 512 MiB are on offer
            let sent = server.stats.bytesSent
            let received = response.body.bytesReceived
            response.body.discard()
            return (sent, received)
        }
        // What the kernel may hold between the two ends: both sockets' largest buffers, plus the
        // server's write in progress and one read of the client's.
        let kernelBuffers = socketBufferLimit("tcp_rmem") + socketBufferLimit("tcp_wmem")
        #expect(received < 1 << 20)
        #expect(
            sent < kernelBuffers + (4 << 20),
            "the client must not buffer what the reader has not asked for (the server wrote \(sent) bytes; the kernel buffers hold up to \(kernelBuffers))"
        )
    }

    /// The largest buffer `name` ("tcp_rmem", "tcp_wmem") lets a socket grow to: the sysctl's third field.
    private func socketBufferLimit(_ name: String) -> Int {
        guard let file = fopen("/proc/sys/net/ipv4/\(name)", "r") else { return 32 << 20 }
        defer { fclose(file) }
        var fields = [0, 0, 0]
        let read = fields.withUnsafeMutableBufferPointer { field in
            withVaList([field.baseAddress!, field.baseAddress! + 1, field.baseAddress! + 2]) { vfscanf(file, "%ld %ld %ld", $0) }
        }
        return read == 3 ? fields[2] : 32 << 20
    }

    // MARK: - Bad input, before any connection

    @Test func badRequestsFailBeforeConnecting() throws {
        #expect(throws: HTTPClientError.unsupportedScheme("ftp")) { try HTTPRequest("ftp://127.0.0.1/file") }
        #expect(throws: HTTPClientError.self) { try HTTPRequest("http://127.0.0.1/a\u{7}b") }
        #expect(throws: HTTPClientError.self) { try HTTPRequest("http://user:p%0Aw@127.0.0.1/") }
        let error = try onLoop {
            await errorThrown {
                _ = try await Client().execute(try HTTPRequest("http://127.0.0.1:9/", headers: [("X-Evil", "a\r\nInjected: 1")]))
            }
        }
        #expect(error as? HTTPClientError == .invalidRequest("the value of header \"X-Evil\" has a control character (CR, LF or NUL)"))
    }
}
