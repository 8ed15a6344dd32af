import HTTPTestServer
import NetCore
import NetTLS
import TestSupport
import Testing

@testable import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

// Support for TLSTests and TLSTruncationTests (one file each).

func tlsListener(on host: String) throws -> (TCPListener, SocketAddress) {
    let listener = try TCPListener(bindTo: SocketAddress(ip: host, port: 0))
    return (listener, try listener.localAddress())
}

/// A small send buffer, so that a bulk transfer overruns it and waits for writability. (Not
/// the receive buffer: shrinking that on a connected socket makes Linux drop data the peer was
/// allowed to send, and the transfer stalls in retransmission back-off.)
func shrinkSendBuffer(_ fd: Int32) {
    var size: Int32 = 16_384
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
}

/// Runs one handshake against a loop server presenting `pki`'s certificate.
/// - Returns: the client's error, or nil when the handshake succeeded.
func handshakeError(
    pki: TLSTestPKI, client configuration: TLSConfiguration, serverName: String, listenOn host: String = "127.0.0.1"
) throws -> (any Error)? {
    let (listener, address) = try tlsListener(on: host)
    let serverContext = try pki.serverContext()
    let clientContext = try TLSContext.client(configuration)
    return try runTasklet(loopName: "tls-test") { () async throws -> (any Error)? in
        Loop.current!.spawn(name: "tls-server") {  // a tasklet always has a current loop
            defer { listener.close() }
            let socket = try await listener.accept(timeout: tlsWait)
            // A client that rejects the certificate makes this fail: that is the client's story.
            guard let stream = try? await TLSStream.accept(over: socket, context: serverContext, timeout: tlsWait) else { return }
            defer { stream.close() }
            try await echoUntilEndOfStream(stream)
        }
        do {
            let socket = try await StreamSocket.connect(to: address, timeout: tlsWait)
            let stream = try await TLSStream.connect(over: socket, context: clientContext, serverName: serverName, timeout: tlsWait)
            defer { stream.close() }
            try await writeAll(stream, [42])
            guard try await readExactly(stream, count: 1) == [42] else { throw TestFailure("echo mismatch") }
            return nil
        } catch {
            return error
        }
    }
}
