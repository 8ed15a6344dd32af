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

/// The longest any single wait in these tests may take before the test fails.
let tlsWait: Duration = .seconds(10)

/// A fresh self-signed certificate in its own temporary directory.
struct TLSTestPKI {
    let directory: String
    let certificateFile: String
    let privateKeyFile: String

    init() throws {
        var template = Array("/tmp/tls-tests-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        (certificateFile, privateKeyFile) = try TestCertificate.generate(inDirectory: directory)
    }

    func serverContext() throws -> TLSContext {
        try TLSContext.server(certificateFile: certificateFile, privateKeyFile: privateKeyFile)
    }

    /// Trusts only this certificate, so the tests do not depend on the machine's CA store.
    func clientContext() throws -> TLSContext {
        try TLSContext.client(TLSConfiguration(caFile: certificateFile, useSystemCAStore: false))
    }

    func remove() {
        unlink(certificateFile)
        unlink(privateKeyFile)
        rmdir(directory)
    }
}

func tlsListener(on host: String) throws -> (TCPListener, SocketAddress) {
    let listener = try TCPListener(bindTo: SocketAddress(ip: host, port: 0))
    return (listener, try listener.localAddress())
}

/// Deterministic bytes: byte i is a function of i and the seed.
func tlsPattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31) &+ ($0 >> 8) &+ seed) }
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

/// Echoes until the peer ends the stream.
nonisolated(nonsending) func echoUntilEndOfStream(_ stream: some AsyncByteStream) async throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32_768, alignment: 1)
    defer { buffer.deallocate() }
    while true {
        let n = try await stream.read(into: buffer, timeout: tlsWait)
        if n == 0 { return }
        try await stream.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), timeout: tlsWait)
    }
}

/// Writes all of `bytes` from a copy that no other code touches while the write parks.
nonisolated(nonsending) func writeAll(_ stream: some AsyncByteStream, _ bytes: [UInt8]) async throws {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
    defer { copy.deallocate() }
    bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
    try await stream.write(UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]), timeout: tlsWait)
}

/// Reads exactly `count` bytes, failing at an early end of stream.
nonisolated(nonsending) func readExactly(_ stream: some AsyncByteStream, count: Int) async throws -> [UInt8] {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
    defer { buffer.deallocate() }
    var filled = 0
    while filled < count {
        let n = try await stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<count]), timeout: tlsWait)
        guard n > 0 else { throw TestFailure("end of stream after \(filled) of \(count) bytes") }
        filled += n
    }
    return Array(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
}
