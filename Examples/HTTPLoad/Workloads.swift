import HTTPClient
import NetCore

/// One body, read to the end and discarded. - Returns: its byte count.
func download(_ url: String, client: Client, engine: HTTPEngine, chunks: Bool) async throws -> Int {
    let response = try await client.get(url, engine: engine)
    guard response.status == 200 else { throw LoadError("GET \(url): status \(response.status)") }
    var total = 0
    if chunks {
        while let chunk = try await response.body.nextChunk() { total += chunk.count }
    } else {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while case let n = try await response.body.read(into: buffer), n > 0 { total += n }
    }
    return total
}

/// `requests` GETs shared by `connections` tasklets, each with its own buffer (or, with `chunks`,
/// taking the body's arrays as they come, as AsyncHTTPClient's benchmark takes its ByteBuffers).
/// - Returns: the body bytes of all of them.
func many(_ url: String, client: Client, engine: HTTPEngine, requests: Int, connections: Int, chunks: Bool) async throws -> Int {
    let next = Counter()
    let done = Channel<Result<Int, any Error>>(capacity: connections)
    let request = try HTTPRequest(url)
    guard let loop = Loop.current else { throw LoadError("not on a loop") }
    for index in 0..<connections {
        loop.spawn(name: "connection \(index)") {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 64)
            defer { buffer.deallocate() }
            do {
                var bytes = 0
                while next.take() < requests {
                    let response = try await client.execute(request, engine: engine)
                    bytes += try await drain(response.body, into: buffer, chunks: chunks)
                }
                try await done.send(.success(bytes))
            } catch {
                try? await done.send(.failure(error))
            }
        }
    }
    var total = 0
    for _ in 0..<connections { total += try await done.receive().get() }
    return total
}

/// Reads a body to its end: into `buffer`, or chunk by chunk (`chunks`). - Returns: its byte count.
func drain(_ body: HTTPBody, into buffer: UnsafeMutableRawBufferPointer, chunks: Bool) async throws -> Int {
    var bytes = 0
    if chunks {
        while let chunk = try await body.nextChunk() { bytes += chunk.count }
    } else {
        while case let n = try await body.read(into: buffer), n > 0 { bytes += n }
    }
    return bytes
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
