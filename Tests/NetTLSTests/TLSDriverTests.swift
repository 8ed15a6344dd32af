import NetCore
import TestSupport
import Testing

@testable import NetTLS

#if canImport(Glibc)
    import Glibc
#endif

/// The drivers over transports that are not the project's sockets: `BlockingTLSStream` over a
/// blocking stream of the test's own (and TLS inside that), and how a transport's failure reads.
@Suite(.serialized) struct TLSDriverTests {
    @Test func blockingTLSInsideBlockingTLSOverAStreamOfTheTestsOwn() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext()
        let (near, far) = try PairBlockingStream.makePair()
        let request = tlsPattern(700_000, seed: 5)
        let response = tlsPattern(900_000, seed: 6)
        let serverOutcome = Box<Result<Bool, any Error>?>(nil)
        let server = try OSThreads.start {
            serverOutcome.value = Result {
                let outer = try BlockingTLSStream.accept(over: far, context: serverContext, timeout: tlsWait)
                let inner = try BlockingTLSStream.accept(over: outer, context: serverContext, timeout: tlsWait)
                defer { inner.close() }
                // Read the whole request first: one thread cannot read and write at once.
                let got = try readExactly(inner, count: request.count)
                try response.withUnsafeBytes { try inner.write($0, timeout: tlsWait) }
                return got == request
            }
        }
        let outer = try BlockingTLSStream.connect(over: near, context: clientContext, serverName: "localhost", timeout: tlsWait)
        let inner = try BlockingTLSStream.connect(over: outer, context: clientContext, serverName: "::1", timeout: tlsWait)
        try request.withUnsafeBytes { try inner.write($0, timeout: tlsWait) }
        let received = try readExactly(inner, count: response.count)
        #expect(inner.isReusable, "tickets and nothing else arrived unasked")
        #expect(inner.fileDescriptor == near.fileDescriptor, "the descriptor at the bottom, for cancellation")
        inner.close()
        #expect(near.fileDescriptor == -1, "closing the inner stream closes everything under it")
        pthread_join(server, nil)
        #expect(received == response)
        #expect(try #require(serverOutcome.value).get(), "the server got the request intact")
    }

    @Test func aBlockingZeroTimeoutReadNeverWaits() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let serverContext = try pki.serverContext()
        let (near, far) = try PairBlockingStream.makePair()
        let done = Box<Bool>(false)
        let server = try OSThreads.start {
            guard let stream = try? BlockingTLSStream.accept(over: far, context: serverContext, timeout: tlsWait) else { return }
            defer { stream.close() }
            _ = try? readExactly(stream, count: 1)  // until the client is done
            done.value = true
        }
        let stream = try BlockingTLSStream.connect(
            over: near, context: try pki.clientContext(), serverName: "localhost", timeout: tlsWait)
        var byte: UInt8 = 0
        let error = try #require(throws: NetError.self) {
            try withUnsafeMutableBytes(of: &byte) { _ = try stream.read(into: $0, timeout: .zero) }
        }
        #expect(error.kind == .timedOut)
        #expect(error.operation == "TLS read", "named for the TLS step, as before TLS moved over memory BIOs")
        try [UInt8(1)].withUnsafeBytes { try stream.write($0, timeout: tlsWait) }
        // Until the server closes: closing first could fail the end of its handshake (sending
        // the session tickets into a closed socket), a race of the test's own.
        _ = try? withUnsafeMutableBytes(of: &byte) { try stream.read(into: $0, timeout: tlsWait) }
        stream.close()
        pthread_join(server, nil)
        #expect(done.value)
    }

    @Test func aSilentPeerTimesOutTheHandshakeNamingIt() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let clientContext = try pki.clientContext()
        let error = try runTasklet(loopName: "nettls-test") { () async throws -> (any Error)? in
            let (near, far) = try StreamSocket.makePair()
            defer { far.close() }
            do {
                _ = try await TLSStream.connect(over: near, context: clientContext, serverName: "localhost", timeout: .milliseconds(200))
                return nil
            } catch {
                #expect(near.isClosed, "a failed handshake closes its transport")
                return error
            }
        }
        let netError = try #require(error as? NetError)
        #expect(netError.kind == .timedOut)
        #expect(netError.operation == "TLS handshake with localhost")
    }

    @Test func aResetDuringTheHandshakeIsTheTransportsErrorNamedForTheHandshake() throws {
        let pki = try TLSTestPKI()
        defer { pki.remove() }
        let clientContext = try pki.clientContext()
        let error = try runTasklet(loopName: "nettls-test") { () async throws -> (any Error)? in
            let (near, far) = try StreamSocket.makePair()
            Loop.current!.spawn(name: "resetting-peer") {  // a tasklet has a loop
                _ = try await far.read(maxBytes: 4096, timeout: tlsWait)  // the ClientHello
                try far.setLingerZero()
                far.close()
            }
            do {
                _ = try await TLSStream.connect(over: near, context: clientContext, serverName: "localhost", timeout: tlsWait)
                return nil
            } catch {
                return error
            }
        }
        // A Unix socket pair ends without a reset; either way it is an error, never a crash.
        if let netError = error as? NetError {
            #expect(netError.operation == "TLS handshake")
            #expect(netError.context == "TLS handshake with localhost")
        } else {
            let tlsError = try #require(error as? TLSError)
            #expect(tlsError.kind == .handshakeFailed)
        }
    }
}

/// A blocking byte stream over one end of a Unix socket pair, written for these tests (not a
/// `BlockingSocket`): `BlockingTLSStream` must need nothing but the protocol.
private final class PairBlockingStream: BlockingByteStream, @unchecked Sendable {  // one thread at a time
    private(set) var fileDescriptor: Int32

    private init(_ fd: Int32) { fileDescriptor = fd }

    static func makePair() throws -> (PairBlockingStream, PairBlockingStream) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw NetError(errno: errno, operation: "socketpair")
        }
        return (PairBlockingStream(fds[0]), PairBlockingStream(fds[1]))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            guard fileDescriptor >= 0 else { throw NetError.closed("read") }
            let n = recv(fileDescriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if n >= 0 { return n }
            guard errno == EAGAIN || errno == EINTR else { throw NetError(errno: errno, operation: "read") }
            try wait(Int16(POLLIN), timeout: timeout, operation: "read")
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, timeout: Duration?) throws {
        var offset = 0
        while offset < bytes.count {
            guard fileDescriptor >= 0, let base = bytes.baseAddress else { throw NetError.closed("write") }
            let n = send(fileDescriptor, base + offset, bytes.count - offset, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
            if n >= 0 {
                offset += n
                continue
            }
            guard errno == EAGAIN || errno == EINTR else { throw NetError(errno: errno, operation: "write") }
            try wait(Int16(POLLOUT), timeout: timeout, operation: "write")
        }
    }

    private func wait(_ events: Int16, timeout: Duration?, operation: String) throws {
        var request = pollfd(fd: fileDescriptor, events: events, revents: 0)
        let milliseconds = timeout.map { Int32($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? -1
        if poll(&request, 1, milliseconds) == 0, let timeout { throw NetError.timedOut(operation, after: timeout) }
    }

    func close() {
        if fileDescriptor >= 0 {
            Glibc.close(fileDescriptor)
            fileDescriptor = -1
        }
    }

    var isReusable: Bool { fileDescriptor >= 0 && SystemCalls.tryPeek(fileDescriptor) == .wouldBlock }
}

/// Reads exactly `count` bytes from a blocking stream, failing at an early end of stream.
private func readExactly(_ stream: some BlockingByteStream, count: Int) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
        let n = try buffer.withUnsafeMutableBytes {
            try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), timeout: tlsWait)
        }
        guard n > 0 else { throw TestFailure("end of stream after \(filled) of \(count) bytes") }
        filled += n
    }
    return buffer
}
