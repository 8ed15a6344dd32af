import HTTPTestServer
import NetCore
import TestSupport
import Testing

@testable import HTTPClient

/// `Downloader.run` from callers that are not tasklets: a plain task (split into segments), an
/// actor, a task group of 100 downloads, and a cancellation in the middle that leaves a
/// `resumeState` another plain task continues byte-exact.
extension AnyTaskCalls {
    @Suite struct AnyTaskDownloadTests {
        /// An actor that downloads from its own isolation, into a sink it owns.
        actor Archiver {
            let client: Client
            init(client: Client) { self.client = client }

            func fetch(_ url: String, size: Int) async throws -> [UInt8] {
                let sink = MemorySink(size: size)
                let result = try await Downloader(client: client).run(url: try HTTPURL(url), sink: sink)
                guard result.totalBytes == UInt64(size) else { throw TestFailure("total \(result.totalBytes)") }
                return sink.bytes
            }
        }

        @Test(arguments: HTTPEngine.allCases) func fromAPlainTaskInSegments(engine: HTTPEngine) async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let client = Client()
            defer { client.shutdown() }
            #expect(Loop.current == nil, "a test function is a plain task, not a tasklet")
            let size = 3 << 20
            let options = DownloadOptions(connections: 4, minimumSegment: 256 << 10, engine: engine)
            let downloader = Downloader(client: client, options: options)
            let sink = MemorySink(size: size)
            let events = Box(0)  // written by the handler on the loop's thread, read after run returned
            let result = try await downloader.run(url: try HTTPURL("\(server.baseURL)/gen/\(size)?seed=21"), sink: sink) { _ in
                events.value += 1
            }
            #expect(result.totalBytes == UInt64(size))
            #expect(result.bytesFetched == UInt64(size))
            #expect(isGenerated(sink.bytes, seed: 21), "the segments' bytes were not all stored in place")
            #expect(events.value > 0, "the event handler was never called")
            #expect(downloader.resumeState.remaining.isEmpty)
            #expect(client.hopCounters.hops.load(ordering: .relaxed) == 1, "one hop for the whole download")
            #expect(client.homeLoop.hasStartedThread)
        }

        @Test func fromAnActor() async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let client = Client()
            defer { client.shutdown() }
            let archiver = Archiver(client: client)
            for seed in 1...3 {
                let bytes = try await archiver.fetch("\(server.baseURL)/gen/200000?seed=\(seed)", size: 200_000)
                #expect(isGenerated(bytes, seed: UInt64(seed)), "download \(seed) stored wrong bytes")
            }
        }

        @Test func aTaskGroupOf100Downloads() async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let client = Client()
            defer { client.shutdown() }
            let size = 40_000
            let good = try await withThrowingTaskGroup(of: Bool.self) { group in
                for seed in 1...100 {
                    group.addTask {
                        let sink = MemorySink(size: size)
                        let result = try await Downloader(client: client).run(
                            url: try HTTPURL("\(server.baseURL)/gen/\(size)?seed=\(seed)"), sink: sink)
                        return result.totalBytes == UInt64(size) && isGenerated(sink.bytes, seed: UInt64(seed))
                    }
                }
                var good = 0
                for try await ok in group where ok { good += 1 }
                return good
            }
            #expect(good == 100, "only \(good) of 100 concurrent downloads stored the right bytes")
            #expect(client.hopCounters.hops.load(ordering: .relaxed) == 100)
        }

        @Test func aCancelledDownloadStopsAndResumesByteExact() async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let client = Client()
            defer { client.shutdown() }
            let size = 1 << 20
            // 256 KiB/s: about four seconds for the whole body, far longer than the cancel takes.
            let slow = try HTTPURL("\(server.baseURL)/gen/\(size)?seed=33&fault=drip&rate=262144")
            let sink = SignallingSink(size: size)
            let downloader = Downloader(client: client)
            let task = Task { try await downloader.run(url: slow, sink: sink) }
            try await sink.firstWrite.receive()
            task.cancel()
            let error = await errorThrown { _ = try await task.value }
            #expect(error is CancellationError, "got \(String(describing: error))")
            // run has returned: the loop's tasklet has ended, nothing writes the sink any more.
            let state = downloader.resumeState
            let stored = state.storedBytes
            #expect(stored > 0 && stored < UInt64(size), "stored \(stored) of \(size) before the cancel")
            #expect(isGenerated(Array(sink.bytes[0..<Int(stored)]), seed: 33), "the bytes before the resume point are wrong")
            #expect(sink.written == stored, "the sink holds \(sink.written) bytes, the state says \(stored)")
            // The same resource at full speed (same validators): continue from the state, in another task.
            let fast = try HTTPURL("\(server.baseURL)/gen/\(size)?seed=33")
            let result = try await Task { try await Downloader(client: client).run(url: fast, sink: sink, resume: state) }.value
            #expect(result.resumedFrom == stored)
            #expect(result.bytesFetched == UInt64(size) - stored)
            #expect(isGenerated(sink.bytes, seed: 33), "the resumed download is not byte-exact")
        }
    }
}

/// A `MemorySink` that counts what it stored and says when the first bytes arrived.
private final class SignallingSink: DownloadSink, @unchecked Sendable {
    // Written only by the download's tasklet on the client's loop thread; the test reads it after
    // `run` returned (the tasklet's end happens-before that return).
    var bytes: [UInt8]
    var written: UInt64 = 0
    /// Receives one message after the first write (a cross-thread channel: the writes come on
    /// the client's loop thread, the test waits in a plain task).
    let firstWrite = Channel<Void>(capacity: 1)

    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }

    func write(_ chunk: UnsafeRawBufferPointer, at offset: UInt64) async throws {
        // Both non-empty: chunks are never empty.
        bytes.withUnsafeMutableBytes { ($0.baseAddress! + Int(offset)).copyMemory(from: chunk.baseAddress!, byteCount: chunk.count) }
        if written == 0 { try await firstWrite.send(()) }  // room for one: never parks
        written += UInt64(chunk.count)
    }

    func discardAll() async throws {
        bytes = [UInt8](repeating: 0, count: bytes.count)
        written = 0
    }
}
