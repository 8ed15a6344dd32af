import HTTPClient
import HTTPTestServer
import Logging
import NetCore
import NetTLS
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// swift-log on both engines (issue 16 point 2): what a request tells its logger, with its
/// metadata, and nothing at all when debug is off.
@Suite("Request logging on both engines")
struct RequestLoggingTests {
    private func client(_ recorder: LogRecorder, level: Logger.Level = .debug, tls: TLSConfiguration = TLSConfiguration()) -> Client {
        var configuration = HTTPClientConfiguration(tls: tls)
        configuration.logger = recorder.logger(level: level)
        return Client(configuration: configuration)
    }

    @Test("a fresh connection: connected, check-out (new), return (kept alive); the next request reuses it", arguments: HTTPEngine.allCases)
    func freshThenReused(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let recorder = LogRecorder()
        let url = TestServerURL(server.baseURL).gen(1000).seed(1).string
        try onLoop {
            let client = client(recorder)
            for _ in 0..<2 {
                let response = try await client.get(url, engine: engine)
                let count = try await readGenerated(response.body, seed: 1)
                #expect(count == 1000)
            }
        }
        let entries = recorder.entries
        let ids = Array(Set(entries.compactMap { $0.metadata["http.request.id"] })).sorted()
        #expect(ids.count == 2, "two requests, two ids: \(ids)")
        #expect(entries.allSatisfy { $0.level == .debug && $0.metadata["http.method"] == "GET" })
        #expect(entries.allSatisfy { $0.metadata["http.origin"] == "http://127.0.0.1:\(server.port)" })
        let first = entries.filter { $0.metadata["http.request.id"] == entries.first?.metadata["http.request.id"] }
        let second = entries.filter { $0.metadata["http.request.id"] != entries.first?.metadata["http.request.id"] }
        #expect(first.map(\.message) == ["connected", "pool check-out", "pool return: kept alive"])
        #expect(first.first?.metadata["http.duration.ms"] != nil)
        #expect(first[1].metadata["http.connection.reused"] == "false")
        #expect(second.map(\.message) == ["pool check-out", "pool return: kept alive"])
        #expect(second.first?.metadata["http.connection.reused"] == "true")
    }

    @Test("https by name: resolved, connected and TLS handshake done, each with its duration", arguments: HTTPEngine.allCases)
    func httpsSetup(engine: HTTPEngine) throws {
        let (server, certificate) = try startSecureTestServer()
        defer { server.stop() }
        let recorder = LogRecorder()
        let url = TestServerURL("https://localhost:\(server.port)").gen(500).seed(2).string
        try onLoop {
            let client = client(recorder, tls: TLSConfiguration(caFile: certificate))
            let response = try await client.get(url, engine: engine)
            let count = try await readGenerated(response.body, seed: 2)
            #expect(count == 500)
        }
        let messages = recorder.entries.map(\.message)
        #expect(Array(messages.prefix(4)) == ["resolved", "connected", "TLS handshake done", "pool check-out"])
        #expect(recorder.entries.prefix(3).allSatisfy { $0.metadata["http.duration.ms"] != nil })
    }

    @Test("a redirect is logged with its status and target; the next hop is attempt 2", arguments: HTTPEngine.allCases)
    func redirect(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let recorder = LogRecorder()
        try onLoop {
            let response = try await client(recorder).get("\(server.baseURL)/redirect/302?to=/gen/100", engine: engine)
            let body = try await response.body.collect()
            #expect(body.count == 100)
        }
        let entries = recorder.entries
        let redirect = try #require(entries.first { $0.message == "redirect" })
        #expect(redirect.metadata["http.status"] == "302")
        #expect(redirect.metadata["http.redirect.to"] == "\(server.baseURL)/gen/100")
        #expect(redirect.metadata["http.attempt"] == "1")
        let after = try #require(entries.last)
        #expect(after.metadata["http.attempt"] == "2")
        #expect(Set(entries.compactMap { $0.metadata["http.request.id"] }).count == 1, "one request, one id")
    }

    @Test("a reused connection closed before any byte: the retry is logged with its reason", arguments: HTTPEngine.allCases)
    func staleRetry(engine: HTTPEngine) throws {
        let server = try StaleSecondRequestServer()
        defer { server.stop() }
        let recorder = LogRecorder()
        try onLoop {
            let client = client(recorder)
            let a = try await client.get("http://127.0.0.1:\(server.port)/a", engine: engine).body.collect()
            #expect(a == Array("ok".utf8))
            let b = try await client.get("http://127.0.0.1:\(server.port)/b", engine: engine).body.collect()
            #expect(b == Array("ok".utf8))
        }
        let retry = try #require(recorder.entries.first { $0.message == "retry on a new connection" })
        #expect(retry.metadata["http.retry.reason"]?.contains("closed before any byte") == true)
        #expect(retry.metadata["http.attempt"] == "1")
        let last = try #require(recorder.entries.last)
        #expect(last.metadata["http.attempt"] == "2" && last.message == "pool return: kept alive")
        #expect(server.connectionsAccepted == 2)
    }

    @Test("a refused connection: connect failed, with the error", arguments: HTTPEngine.allCases)
    func connectFailed(engine: HTTPEngine) throws {
        let recorder = LogRecorder()
        let error = try onLoop { await errorThrown { _ = try await client(recorder).get("http://127.0.0.1:9/x", engine: engine) } }
        #expect(error != nil)
        let failed = try #require(recorder.entries.first { $0.message == "connect failed" })
        #expect(failed.metadata["error"]?.isEmpty == false)
    }

    @Test("level info: no entry at all; a request's own logger wins over the configuration's", arguments: HTTPEngine.allCases)
    func offAndPerRequest(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let quiet = LogRecorder()
        let own = LogRecorder()
        try onLoop {
            let client = client(quiet, level: .info)
            _ = try await client.get("\(server.baseURL)/redirect/302?to=/gen/100", engine: engine).body.collect()
            var request = try HTTPRequest("\(server.baseURL)/gen/100")
            request.logger = own.logger()
            _ = try await client.execute(request, engine: engine).body.collect()
        }
        #expect(quiet.entries.isEmpty, "\(quiet.entries.map(\.message))")
        #expect(own.entries.map(\.message).contains("pool check-out"))
    }

    @Test("Downloader: a transient failure's retry is logged with its reason and where it resumes")
    func downloadRetry() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let recorder = LogRecorder()
        let url = try HTTPURL(TestServerURL(server.baseURL).gen(100_000).seed(4).fault(.reset(at: 30_000)).once("log-retry").string)
        let bytes = try onLoop {
            let sink = MemorySink(size: 100_000)
            let downloader = Downloader(client: client(recorder), options: DownloadOptions(retryBaseDelay: .milliseconds(1)))
            _ = try await downloader.run(url: url, sink: sink) { _ in }
            return sink.bytes.count
        }
        #expect(bytes == 100_000)
        let retry = try #require(recorder.entries.first { $0.message == "download retry" })
        #expect(retry.metadata["http.retry.reason"]?.isEmpty == false)
        #expect(retry.metadata["download.attempt"] == "1")
        #expect(Int(retry.metadata["download.resume.at"] ?? "") ?? 0 > 0, "resumed past the first bytes")
    }

    @Test("the loop watchdog's report is a warning with the loop and tasklet as metadata")
    func watchdogWarning() throws {
        let recorder = LogRecorder()
        let loop = try Loop(name: "logged-loop")
        loop.setWatchdog(threshold: .milliseconds(5), report: WatchdogReport.logging(to: recorder.logger(level: .warning)))
        loop.spawn(name: "busy") {
            // Holds the loop: the thing the watchdog reports. Spins on the clock, sleeps nothing.
            let end = ContinuousClock.now + .milliseconds(40)
            while ContinuousClock.now < end {}
        }
        loop.run()
        let warning = try #require(recorder.entries.first)
        #expect(warning.level == .warning)
        #expect(warning.metadata["netcore.loop"] == "logged-loop")
        #expect(warning.metadata["netcore.tasklet"] == "busy")
        #expect(Int(warning.metadata["netcore.held.ms"] ?? "") ?? 0 >= 5)
    }
}
