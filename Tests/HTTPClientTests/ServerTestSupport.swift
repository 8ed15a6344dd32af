import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Raw-socket helpers for the test server's tests: requests written by hand, responses read with
/// `HTTPResponseParser`, every wait bounded. A namespace so the names cannot clash with other
/// suites' helpers in this target.
enum ServerProbe {
    /// One response as the parser saw it.
    struct Response: Sendable {
        var head: HTTPResponseHead
        var body: [UInt8]
        var trailers: HTTPHeaders

        var status: Int { head.status }
        func field(_ name: String) -> String? { head.headers.first(name) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Starts a server, runs `body` as a tasklet on a fresh client loop driven by this thread
    /// (bounded by `timeout`), stops the server, and returns the body's result.
    static func withServer<T: Sendable>(
        _ configuration: TestHTTPServer.Configuration = .init(), timeout: Duration = .seconds(20),
        _ body: @escaping @Sendable (TestHTTPServer) async throws -> T
    ) throws -> T {
        let server = try TestHTTPServer.start(configuration)
        defer { server.stop() }
        return try runTasklet(
            loopName: "test-client", tasklet: "test-client", expectNoWatchers: false,
            unfinished: "the client tasklet never finished"
        ) {
            try await withTimeout(timeout) { try await body(server) }
        }
    }

    static func connect(_ server: TestHTTPServer) async throws -> StreamSocket {
        try await StreamSocket.connect(to: .loopbackIPv4(port: server.port), timeout: .seconds(5))
    }

    /// A GET (or `method`) request head for `target` with optional extra fields.
    static func request(_ target: String, method: String = "GET", fields: [(String, String)] = [], body: String? = nil) -> String {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in fields { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)" } else { text += "\r\n" }
        return text
    }

    /// A GET (or `method`) request head for a typed target (`TestServerURL().gen(10).seed(2)`).
    static func request(_ target: TestServerURL, method: String = "GET", fields: [(String, String)] = [], body: String? = nil) -> String {
        request(target.string, method: method, fields: fields, body: body)
    }

    /// Reads one response from `stream`, feeding the parser until the message ends; at end of
    /// stream the parser's `finish()` decides (truncated messages throw `HTTPParseError`).
    /// - Parameter received: body bytes seen so far, kept when an error is thrown mid-body.
    static func readResponse(
        from stream: some AsyncByteStream, method: String = "GET", received: Box<[UInt8]> = Box([])
    ) async throws -> Response {
        var parser = HTTPResponseParser(requestMethod: method)
        var head: HTTPResponseHead?
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = try await stream.read(into: buffer, timeout: .seconds(10))
            let events =
                count == 0
                ? try parser.finish()
                : try parser.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            for event in events {
                switch event {
                case .head(let value): head = value
                case .body(let bytes): received.value += bytes
                case .end(let trailers):
                    guard let head else { throw TestFailure("end without a head") }
                    return Response(head: head, body: received.value, trailers: trailers)
                }
            }
            if count == 0 { throw TestFailure("end of stream, yet the parser did not end the message") }
        }
    }

    /// Connects, sends `request`, reads the response, closes.
    static func fetch(_ server: TestHTTPServer, _ request: String, method: String = "GET") async throws -> Response {
        let socket = try await connect(server)
        defer { socket.close() }
        try await socket.write(request)
        return try await readResponse(from: socket, method: method)
    }

    /// GET `target` on a new connection.
    static func get(_ server: TestHTTPServer, _ target: String, fields: [(String, String)] = []) async throws -> Response {
        try await fetch(server, request(target, fields: fields))
    }

    /// GET a typed target (`TestServerURL().gen(10).fault(.reset(at: 5))`) on a new connection.
    static func get(_ server: TestHTTPServer, _ target: TestServerURL, fields: [(String, String)] = []) async throws -> Response {
        try await get(server, target.string, fields: fields)
    }

    /// Writes `text` to any byte stream (plain or TLS).
    static func write(_ text: String, to stream: some AsyncByteStream) async throws {
        let bytes = Array(text.utf8)
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        defer { copy.deallocate() }
        bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
        try await stream.write(UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]), timeout: .seconds(5))
    }

    /// Reads until end of stream or an error; returns the byte count and the error, if any.
    static func drain(_ socket: StreamSocket, timeout: Duration = .seconds(10)) async -> (bytes: Int, error: (any Error)?) {
        var total = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)
        defer { buffer.deallocate() }
        do {
            while case let n = try await socket.read(into: buffer, timeout: timeout), n > 0 { total += n }
            return (total, nil)
        } catch {
            return (total, error)
        }
    }

    /// Whether `bytes` are the generated content for `seed` from content offset `offset`.
    static func isContent(_ bytes: [UInt8], seed: UInt64, offset: UInt64 = 0) -> Bool {
        bytes.withUnsafeBytes { GeneratedContent.firstMismatch(in: $0, seed: seed, offset: offset) == nil }
    }
}
