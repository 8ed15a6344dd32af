import HTTPClient
import HTTPTestServer
import NetCore
import Testing

/// A sink that holds its downloader, as netget's download job does.
private final class OwningSink: DownloadSink {
    var downloader: Downloader?
    var received = 0
    func write(_ chunk: UnsafeRawBufferPointer, at offset: UInt64) async throws { received += chunk.count }
    func discardAll() async throws { received = 0 }
}

@Suite("Downloader lets go of its sink and event handler")
struct DownloaderReleaseTests {
    /// netget -o - over 1,000 URLs grew by the 64 KiB tail of every finished download's sink,
    /// because the job held its downloader and the downloader kept the job as sink and handler.
    @Test("a sink that owns its downloader is freed once run returns", arguments: HTTPEngine.allCases)
    func sinkFreedAfterRun(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let (released, received) = try onLoop {
            weak var weakSink: OwningSink?
            var received = 0
            do {
                let sink = OwningSink()
                let downloader = Downloader(client: Client(), options: DownloadOptions(engine: engine))
                sink.downloader = downloader
                weakSink = sink
                _ = try await downloader.run(url: try HTTPURL("http://127.0.0.1:\(server.port)/gen/200000?seed=3"), sink: sink) {
                    _ in _ = sink.received  // the handler holds the sink too, as netget's does
                }
                received = sink.received
            }
            return (weakSink == nil, received)
        }
        #expect(received == 200_000)
        #expect(released, "the downloader kept its sink (a retain cycle) after run returned")
    }
}
