import CoreMetrics
import HTTPClient
import HTTPTestServer
import MetricsTestKit
import NetCore
import NetTLS
import Synchronization
import TestSupport
import Testing
import Workers

/// swift-metrics on both engines (issue 16 point 3), through MetricsTestKit's `TestMetrics`,
/// a factory that records what it receives.
@Suite("Client metrics on both engines")
struct ClientMetricsTests {
    private func client(_ metrics: TestMetrics, tls: TLSConfiguration = TLSConfiguration()) -> Client {
        var configuration = HTTPClientConfiguration(tls: tls)
        configuration.metrics = metrics
        return Client(configuration: configuration)
    }

    private func count(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        metrics.counterTotal(label: label, dimensions: dimensions)
    }

    @Test(
        "requests by status class, failures, bytes in and out, connect, first-byte and whole-request times", arguments: HTTPEngine.allCases)
    func requestsAndTimers(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let metrics = TestMetrics()
        try onLoop {
            let client = client(metrics)
            let ok = try await client.get(TestServerURL(server.baseURL).gen(5000).seed(1).string, engine: engine)
            #expect(try await readGenerated(ok.body, seed: 1) == 5000)
            let missing = try await client.get("\(server.baseURL)/status/404", engine: engine)
            _ = try await missing.body.collect()
            let refused = await errorThrown { _ = try await client.get("http://127.0.0.1:9/x", engine: engine) }
            #expect(refused != nil)
        }
        #expect(count(metrics, "http_client_requests_total", [("status_class", "2xx")]) == 1)
        #expect(count(metrics, "http_client_requests_total", [("status_class", "4xx")]) == 1)
        #expect(count(metrics, "http_client_requests_total", [("status_class", "failed")]) == 1)
        #expect(count(metrics, "http_client_requests_total", [("status_class", "5xx")]) == 0)
        #expect(count(metrics, "http_client_bytes_received_total") > 5000, "the body and both heads")
        #expect(count(metrics, "http_client_bytes_sent_total") > 2 * 20, "two request heads")
        #expect(try metrics.expectTimer("http_client_connect_duration").values.count == 1, "one connection, reused")
        #expect(try metrics.expectTimer("http_client_time_to_first_byte").values.count == 2)
        let whole = try metrics.expectTimer("http_client_request_duration").values
        #expect(whole.count == 2 && whole.allSatisfy { $0 > 0 })
        #expect(try metrics.expectTimer("http_client_time_to_first_byte").values.allSatisfy { $0 > 0 })
    }

    @Test("https: the handshake is timed; a handshake that fails counts as a TLS failure", arguments: HTTPEngine.allCases)
    func tls(engine: HTTPEngine) throws {
        let (secure, certificate) = try startSecureTestServer()
        defer { secure.stop() }
        let plain = try TestHTTPServer.start()
        defer { plain.stop() }
        let metrics = TestMetrics()
        try onLoop {
            let client = client(metrics, tls: TLSConfiguration(caFile: certificate))
            let response = try await client.get("https://127.0.0.1:\(secure.port)/gen/100", engine: engine)
            _ = try await response.body.collect()
            let failed = await errorThrown { _ = try await client.get("https://127.0.0.1:\(plain.port)/gen/100", engine: engine) }
            #expect(failed != nil)
        }
        #expect(try metrics.expectTimer("http_client_tls_handshake_duration").values.count == 1)
        #expect(count(metrics, "http_client_tls_failures_total") == 1)
    }

    @Test("a stale-connection retry and a Downloader retry, each by its reason", arguments: HTTPEngine.allCases)
    func retries(engine: HTTPEngine) throws {
        let stale = try StaleSecondRequestServer()
        defer { stale.stop() }
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let metrics = TestMetrics()
        let url = try HTTPURL(TestServerURL(server.baseURL).gen(100_000).seed(4).fault(.reset(at: 30_000)).once("m-\(engine)").string)
        try onLoop {
            let client = client(metrics)
            _ = try await client.get("http://127.0.0.1:\(stale.port)/a", engine: engine).body.collect()
            _ = try await client.get("http://127.0.0.1:\(stale.port)/b", engine: engine).body.collect()
            let sink = MemorySink(size: 100_000)
            let downloader = Downloader(client: client, options: DownloadOptions(retryBaseDelay: .milliseconds(1), engine: engine))
            _ = try await downloader.run(url: url, sink: sink) { _ in }
        }
        #expect(count(metrics, "http_client_retries_total", [("reason", "stale_connection")]) == 1)
        #expect(count(metrics, "http_client_retries_total", [("reason", "connection")]) == 1, "a reset mid-body")
    }

    @Test("gauges: pool connections leased then idle, waiters, loop tasklets, worker pool busy threads")
    func gauges() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let metrics = TestMetrics()
        let pool = try WorkerPool(threads: 2, name: "gauged")
        defer { pool.shutdown() }
        let readings = try onLoop { () async throws -> [String: Double] in
            guard let loop = Loop.current else { throw TestFailure("not on a loop") }
            let client = client(metrics)
            let gauges = MetricsGauges(factory: metrics, client: client, loop: loop, pools: [pool])
            func gauge(_ label: String, _ dimensions: [(String, String)] = []) throws -> Double {
                try #require(try metrics.expectGauge(label, dimensions).lastValue)
            }
            var readings: [String: Double] = [:]
            let held = try await client.get("\(server.baseURL)/gen/1000000")  // its body unread: the connection stays leased
            let release = Atomic<Bool>(false)
            let started = Atomic<Bool>(false)
            let job = loop.spawn {
                try await pool.callAsync("held") { _ in
                    started.store(true, ordering: .releasing)
                    while !release.load(ordering: .acquiring) {}  // busy on purpose: the gauge must see it
                }
            }
            while !started.load(ordering: .acquiring) { await Tasklet.yield() }
            gauges.sample()
            readings["leased"] = try gauge("http_client_pool_connections", [("state", "leased")])
            readings["idle"] = try gauge("http_client_pool_connections", [("state", "idle")])
            readings["busy"] = try gauge("workers_pool_busy_threads", [("pool", "gauged")])
            readings["alive"] = try gauge("netcore_loop_tasklets", [("loop", loop.name), ("state", "alive")])
            release.store(true, ordering: .releasing)
            try await job.value
            _ = try await held.body.collect()
            gauges.sample()
            readings["leasedAfter"] = try gauge("http_client_pool_connections", [("state", "leased")])
            readings["idleAfter"] = try gauge("http_client_pool_connections", [("state", "idle")])
            readings["openAfter"] = try gauge("http_client_pool_connections", [("state", "open")])
            readings["waiters"] = try gauge("http_client_pool_waiters")
            readings["busyAfter"] = try gauge("workers_pool_busy_threads", [("pool", "gauged")])
            return readings
        }
        #expect(readings["leased"] == 1 && readings["idle"] == 0)
        #expect(readings["busy"] == 1)
        #expect((readings["alive"] ?? 0) >= 2, "the test's tasklet and the job's")
        #expect(readings["leasedAfter"] == 0 && readings["idleAfter"] == 1 && readings["openAfter"] == 1)
        #expect(readings["waiters"] == 0)
        #expect(readings["busyAfter"] == 0)
    }
}
