import NetCore
import NetTLS
import Synchronization

/// Counters read from any thread while the loop updates them.
final class ServerCounters: @unchecked Sendable {  // atomics, and `recordedList` is guarded by `recordedLock`
    let connectionsAccepted = Atomic<Int>(0)
    let requestsServed = Atomic<Int>(0)
    let openConnections = Atomic<Int>(0)
    /// Bytes of completed writes to clients (plaintext under TLS).
    let bytesSent = Atomic<Int>(0)
    static let maxRecorded = 10_000
    private let recordedLock = PThreadMutex()
    private var recordedList: [RecordedRequest] = []
    let failedHandshakes = Atomic<Int>(0)
    private var handshakeList: [TLSHandshakeRecord] = []

    /// Every completed TLS handshake, oldest first (at most `maxRecorded`): a copy, any thread.
    var handshakes: [TLSHandshakeRecord] { recordedLock.withLock { handshakeList } }

    func record(_ handshake: TLSHandshakeRecord) {
        recordedLock.withLock {
            if handshakeList.count >= Self.maxRecorded { handshakeList.removeFirst() }
            handshakeList.append(handshake)
        }
    }

    /// Every request head received, oldest first (at most `maxRecorded`): a copy, any thread.
    var recorded: [RecordedRequest] { recordedLock.withLock { recordedList } }

    func record(_ head: RequestHead) {
        let request = RecordedRequest(requestLine: head.requestLine, fields: head.fields)
        recordedLock.withLock {
            if recordedList.count >= Self.maxRecorded { recordedList.removeFirst() }
            recordedList.append(request)
        }
    }
}

/// A completed TLS handshake as the server saw it.
public struct TLSHandshakeRecord: Sendable, Equatable {
    /// The ALPN protocol chosen, nil for none.
    public let applicationProtocol: String?
    /// The client's certificates (DER, leaf first); empty when it sent none.
    public let clientCertificates: [[UInt8]]
    /// "TLSv1.3", "TLSv1.2".
    public let protocolVersion: String
}

/// A request head as the server received it: for tests that check what a client sent where.
public struct RecordedRequest: Sendable {
    /// The request line as received, without its CRLF ("GET /gen/100 HTTP/1.1").
    public let requestLine: String
    /// The header fields in the order received, names as the client spelled them.
    public let fields: [(name: String, value: String)]

    /// The values of the fields named `name` (any case).
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
}

/// The server's state on its loop: the listener, the open connections, the `once=` tokens.
/// Tasklets hold this, not the `TestHTTPServer`, so dropping the last reference to the server
/// still runs its deinit (which stops it).
final class ServerCore: @unchecked Sendable {  // mutable state is touched only on `loop`'s thread
    /// The largest /echo request body kept (bigger ones get 413).
    static let maxEchoBody = 16 << 20
    /// How long a request body may pause between bytes.
    static let bodyTimeout: Duration = .seconds(30)

    let loop: Loop
    let listener: TCPListener
    let configuration: TestHTTPServer.Configuration
    let counters = ServerCounters()

    private var onceTokens = OnceTokens()
    private var connections: [UInt64: (socket: StreamSocket, tasklet: TaskletHandle<Void>?)] = [:]
    private var nextID: UInt64 = 0
    private var shuttingDown = false

    init(loop: Loop, listener: TCPListener, configuration: TestHTTPServer.Configuration) {
        self.loop = loop
        self.listener = listener
        self.configuration = configuration
    }

    // MARK: - Accepting

    /// Accepts connections until the listener is closed, one tasklet each.
    func acceptConnections() async {
        while !shuttingDown {
            let socket: StreamSocket
            do {
                socket = try await listener.accept()
            } catch {
                if shuttingDown || (error as? NetError)?.kind == .closed || error is CancellationError { return }
                // EMFILE and friends: wait for descriptors to free up rather than spin or quit.
                try? await sleep(for: .milliseconds(10))
                continue
            }
            counters.connectionsAccepted.add(1, ordering: .relaxed)
            counters.openConnections.add(1, ordering: .relaxed)
            let id = nextID
            nextID += 1
            connections[id] = (socket, nil)
            let tasklet = loop.spawn(name: "http-connection-\(id)") { [self] in
                await self.serve(socket, id: id)
            }
            // The tasklet runs later (spawn only queues it), so the entry is still there.
            connections[id]?.tasklet = tasklet
        }
    }

    // MARK: - One connection

    private func serve(_ socket: StreamSocket, id: UInt64) async {
        defer {
            socket.close()
            connections[id] = nil
            counters.openConnections.subtract(1, ordering: .relaxed)
        }
        let stream: any AsyncByteStream
        if let context = configuration.tls {
            do {
                let tls = try await TLSStream.accept(over: socket, context: context, timeout: configuration.tlsHandshakeTimeout)
                counters.record(
                    TLSHandshakeRecord(
                        applicationProtocol: tls.negotiatedApplicationProtocol, clientCertificates: tls.peerCertificateChain,
                        protocolVersion: tls.protocolVersion))
                stream = tls
            } catch {
                counters.failedHandshakes.add(1, ordering: .relaxed)
                return  // a failed handshake is the client's problem; the socket is closed already
            }
        } else {
            stream = socket
        }
        let io = ConnectionIO(stream: stream, socket: socket, writeTimeout: configuration.writeTimeout, counters: counters)
        do {
            while try await serveOneRequest(io) {}
        } catch {
            // The peer went away, a timeout passed, or the server is stopping: nothing to answer.
        }
        io.stream.close()
    }

    /// Reads and answers one request. - Returns: whether the connection carries on.
    /// - Throws: I/O errors of the stream.
    private func serveOneRequest(_ io: ConnectionIO) async throws -> Bool {
        let head: RequestHead
        switch try await io.readHead(idleTimeout: configuration.keepAliveTimeout) {
        case .endOfStream, .truncated:
            return false
        case .tooLarge:
            try await refuse(.text(431, "the request head is larger than \(ConnectionIO.maxHeadBytes) bytes"), io)
            return false
        case .invalid(let error):
            try await refuse(.text(error.status, error.detail), io)
            return false
        case .head(let parsed):
            head = parsed
        }
        counters.record(head)

        // Request body framing: Content-Length, or chunked alone.
        let codings = head.fields(named: "Transfer-Encoding")
        let chunked = !codings.isEmpty
        guard codings.isEmpty || (codings.count == 1 && codings[0].lowercased() == "chunked") else {
            try await refuse(.text(501, "a request body may be chunked or have a Content-Length, nothing else"), io)
            return false
        }
        guard !chunked || head.fields(named: "Content-Length").isEmpty else {
            try await refuse(.text(400, "both Transfer-Encoding and Content-Length"), io)
            return false
        }
        var bodyLength: UInt64 = 0
        let lengths = head.fields(named: "Content-Length")
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), let value = decimal(first) else {
                try await refuse(.text(400, "bad Content-Length"), io)
                return false
            }
            bodyLength = value
        }
        let isEcho = head.path == "/echo"
        if isEcho && bodyLength > UInt64(Self.maxEchoBody) {
            try await refuse(.text(413, "an /echo body may have at most \(Self.maxEchoBody) bytes"), io)
            return false
        }
        if bodyLength > 0 || chunked, head.field("Expect")?.lowercased() == "100-continue" {
            // expect=CODE (400-599) answers with it instead of 100 (a server that refuses the body).
            if let refusal = head.query["expect"].flatMap({ Int($0) }), (400...599).contains(refusal) {
                try await refuse(.text(refusal, "refused before the body"), io)
                return false
            }
            if head.query["expect"] != "silent" {  // silent: no 100, the client sends after its timeout
                try await io.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
        }
        // maxBody=N: a server that takes N body bytes, then answers 413 and closes while the
        // client may still be sending (an upload limit, as nginx's client_max_body_size).
        let maxBody = head.query["maxBody"].flatMap { UInt64($0) }
        if let maxBody, !chunked, bodyLength > maxBody {
            guard try await io.readBody(length: maxBody, keep: 0, timeout: Self.bodyTimeout) != nil else { return false }
            try await refuse(.text(413, "the body has \(bodyLength) bytes; this URL takes at most \(maxBody)"), io)
            return false
        }
        let keep = isEcho ? Self.maxEchoBody : 0
        let read: [UInt8]?
        do {
            let limit = min(isEcho ? UInt64(Self.maxEchoBody) : .max, maxBody ?? .max)
            read =
                chunked
                ? try await io.readChunkedBody(keep: keep, limit: limit, timeout: Self.bodyTimeout)
                : try await io.readBody(length: bodyLength, keep: keep, timeout: Self.bodyTimeout)
        } catch let error as ChunkedBodyError {
            let status = error.isOverLimit && maxBody != nil ? 413 : 400
            try await refuse(.text(status, error.description), io)
            return false
        }
        guard let body = read else { return false }

        var keepAlive = head.wantsKeepAlive
        let isHead = head.method == "HEAD"
        let action = route(head, body: body, onceTokens: &onceTokens)
        counters.requestsServed.add(1, ordering: .relaxed)
        switch action {
        case .simple(let response):
            try await io.write(serialize(response, isHead: isHead, keepAlive: keepAlive))
        case .malformed(let kind):
            try await io.write(kind.bytes)
            await io.closeGracefully()
            return false
        case .generated(let response, let fault):
            if response.closeAfter { keepAlive = false }
            let headBytes = responseHead(status: response.status, fields: response.fields, keepAlive: keepAlive)
            if isHead {
                try await io.write(headBytes)
            } else {
                var writer = try await BodyWriter(io: io, response: response, fault: fault, head: headBytes)
                if case .connectionEnded = try await writer.run() { return false }
            }
        }
        if !keepAlive {
            await io.closeGracefully()
            return false
        }
        return true
    }

    /// Answers a request the server will not serve, then closes: after a bad head the byte
    /// stream cannot be trusted to be in step.
    private func refuse(_ response: SimpleResponse, _ io: ConnectionIO) async throws {
        counters.requestsServed.add(1, ordering: .relaxed)
        try await io.write(serialize(response, isHead: false, keepAlive: false))
        await io.closeGracefully()
    }

    // MARK: - Stopping

    /// Closes the listener and every connection (waking their tasklets), and waits a little for
    /// them to unwind; the loop's `run()` then returns because nothing is left alive. A tasklet
    /// that does not unwind in time is left behind and the loop is told to stop anyway.
    func shutdown() async {
        shuttingDown = true
        listener.close()
        for (_, entry) in connections {
            entry.socket.close()
            entry.tasklet?.cancel()
        }
        let deadline = ContinuousClock.now + .seconds(2)
        while !connections.isEmpty && ContinuousClock.now < deadline {
            try? await sleep(for: .milliseconds(2))
        }
        if !connections.isEmpty { loop.stop() }
    }
}
