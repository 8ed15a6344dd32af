import HTTPTestServer
import NetCore
import TestSupport
import Testing

@testable import HTTPClient

/// Backpressure and cancellation across the hop: a slow reader holds the connection to its own
/// buffer; cancelling the caller's task while it waits for the head, or in the
/// middle of the body, closes the connection (the test server sees it close) instead of
/// pooling it half read.
extension AnyTaskCalls {
    @Suite struct AnyTaskCancellationTests {
        @Test(arguments: [false, true]) func aSlowReaderHoldsTheConnectionToItsBuffer(chunks: Bool) async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let client = Client()
            defer { client.shutdown() }
            let size = 16 << 20
            let response = try await client.get("\(server.baseURL)/gen/\(size)?seed=5")
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 100_000, alignment: 16)
            defer { buffer.deallocate() }
            var count = 0
            var offset: UInt64 = 0
            while true {
                let bytes: [UInt8]
                if chunks {
                    guard let chunk = try await response.body.nextChunk() else { break }
                    bytes = chunk
                } else {
                    let n = try await response.body.read(into: buffer)
                    guard n > 0 else { break }
                    bytes = Array(buffer[0..<n])
                }
                #expect(isGenerated(bytes, seed: 5, from: offset))
                offset += UInt64(bytes.count)
                count += 1
                // The slowness under test (the loopback server is far faster), not a synchronisation.
                if count % 4 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            }
            #expect(offset == UInt64(size))
            // The reader's reads take the bytes off the socket themselves: besides what the kernel
            // holds, only the connection's own buffer can be ahead of a slow reader. A hand-off
            // that read ahead (a queue, a prefetch) would run megabytes ahead.
            let bound = client.configuration.connectionBufferSize
            let ahead = client.hopCounters.maxBytesAhead.load(ordering: .relaxed)
            print("slow reader (\(chunks ? "chunks" : "read(into:)")): at most \(ahead) bytes ahead (bound \(bound)) of \(size)")
            #expect(ahead > 0, "the head's read took no body bytes: the count is not measured")
            #expect(ahead <= bound, "\(ahead) bytes ran ahead of a slow reader")
        }

        @Test func cancellingTheWaitForTheHeadClosesTheConnection() async throws {
            // A server that reads the request and never answers, and reports when the client closes.
            let silent = try DrivenLoop(name: "silent-server")
            defer { silent.stop() }
            let listener = try TCPListener(bindTo: SocketAddress(ip: "127.0.0.1", port: 0))
            let port = listener.port
            let seen = Channel<String>(capacity: 4)
            silent.loop.spawn(name: "silent") {
                do {
                    let socket = try await listener.accept(timeout: .seconds(10))
                    let head = try await socket.read(maxBytes: 64 << 10, timeout: .seconds(10))
                    try await seen.send(head.isEmpty ? "no request" : "request")
                    // Nothing is sent back: this read ends only when the client closes.
                    let more = try await socket.read(maxBytes: 1, timeout: .seconds(10))
                    try await seen.send(more.isEmpty ? "closed" : "more bytes")
                    socket.close()
                } catch {
                    try? await seen.send("server error: \(error)")
                }
                listener.close()
            }
            let client = Client()
            defer { client.shutdown() }
            let task = Task { try await client.get("http://127.0.0.1:\(port)/never") }
            #expect(try await seen.receive() == "request")
            task.cancel()
            let error = await errorThrown { _ = try await task.value }
            #expect(error is CancellationError, "got \(String(describing: error))")
            #expect(try await seen.receive() == "closed", "the cancelled request's connection was not closed")
            #expect(client.stats.idleConnections == 0)
        }

        @Test func cancellingMidBodyStopsTheTransferAndClosesTheConnection() async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let client = Client()
            defer { client.shutdown() }
            let size = 256 << 20  // far more than is read before the cancel: the rest is never sent
            let firstChunk = Channel<Int>(capacity: 1)
            let task = Task {
                let response = try await client.get("\(server.baseURL)/gen/\(size)?seed=2")
                var received = 0
                while let chunk = try await response.body.nextChunk() {
                    if received == 0 { try await firstChunk.send(chunk.count) }
                    received += chunk.count
                }
                return received
            }
            #expect(try await firstChunk.receive() > 0)
            task.cancel()
            let error = await errorThrown { _ = try await task.value }
            #expect(error is CancellationError, "got \(String(describing: error))")
            #expect(try await AnyTaskCalls.eventually { server.stats.openConnections == 0 }, "the connection stayed open")
            #expect(client.stats.idleConnections == 0, "a half-read connection went back to the pool")
            // The client still works: a new request opens a new connection.
            let again = try await client.get("\(server.baseURL)/gen/1000?seed=3")
            #expect(try await readGenerated(again.body, seed: 3) == 1000)
            #expect(client.stats.connectionsOpened == 2)
        }

        @Test func droppingTheBodyEarlyClosesTheConnection() async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let client = Client()
            defer { client.shutdown() }
            do {
                let response = try await client.get("\(server.baseURL)/gen/\(64 << 20)?seed=4")
                #expect(try await response.body.nextChunk() != nil)
            }  // the response (and its body) is freed here, read in part
            #expect(try await AnyTaskCalls.eventually { server.stats.openConnections == 0 }, "the connection stayed open")
            #expect(client.stats.idleConnections == 0)
        }
    }
}
