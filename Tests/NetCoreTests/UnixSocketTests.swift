import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// AF_UNIX stream sockets: a listener on a path or an abstract name, a parking client on the
/// loop and a blocking one on a thread, and the addresses the kernel cannot take.
@Suite struct UnixSocketTests {
    /// A fresh socket path in its own directory (removed by the caller with `cleanUp`).
    static func socketPath() throws -> (path: String, cleanUp: () -> Void) {
        let directory = try LocalDaemon.makeDirectory("unix-socket-tests")
        let path = directory + "/s.sock"
        return (
            path,
            {
                unlink(path)
                rmdir(directory)
            }
        )
    }

    @Test(arguments: [false, true])
    func parkingAndBlockingClientsTalkToAListenerOnAPathOrAnAbstractName(abstract: Bool) throws {
        let (path, cleanUp) = try Self.socketPath()
        defer { cleanUp() }
        let name = abstract ? "stacklessnet-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" : path
        let address = try SocketAddress(unixPath: name, abstract: abstract)
        #expect(address.family == .unix)
        #expect(address.port == 0)
        #expect(address.description == (abstract ? "unix:@\(name)" : "unix:\(path)"))
        let listener = try TCPListener(bindTo: address)
        #expect(try listener.localAddress() == address, "getsockname gives the same address back")
        #expect(access(path, F_OK) == (abstract ? -1 : 0), "a path has a socket file, an abstract name none")
        let payload = pattern(300_000)
        let results = try runTasklet { () async throws -> ([UInt8], [UInt8]) in
            let loop = Loop.current!
            let server = loop.spawn(name: "unix-echo") {
                for _ in 0..<2 {
                    let connection = try await listener.accept()
                    var buffer = [UInt8](repeating: 0, count: 16_384)
                    while true {
                        let n = try await connection.read(into: &buffer)
                        if n == 0 { break }
                        try await connection.write(Array(buffer[0..<n]))
                    }
                    connection.close()
                }
                listener.close()
            }
            // The parking client, on this loop.
            let client = try await StreamSocket.connect(to: address, timeout: .seconds(5))
            let writer = loop.spawn(name: "writer") {
                try await client.write(payload)
                try client.shutdown(.write)
            }
            var parked: [UInt8] = []
            while case let chunk = try await client.read(maxBytes: 65_536), !chunk.isEmpty { parked += chunk }
            try await writer.value
            client.close()
            // The blocking client, on a thread of its own while the loop serves it.
            let blocking = Box<Result<[UInt8], any Error>?>(nil)
            let done = Channel<Void>(capacity: 1)
            let thread = TestThread.start {
                blocking.value = Result {
                    let socket = try BlockingSocket.connect(to: address, timeout: .seconds(5))
                    try payload.withUnsafeBytes { try socket.write($0, timeout: .seconds(5)) }
                    shutdown(socket.fileDescriptor, Int32(SHUT_WR))
                    var received: [UInt8] = []
                    var buffer = [UInt8](repeating: 0, count: 65_536)
                    while case let n = try buffer.withUnsafeMutableBytes({ try socket.read(into: $0, timeout: .seconds(5)) }), n > 0 {
                        received += buffer[0..<n]
                    }
                    socket.close()
                    return received
                }
                try? done.sendBlocking(())
            }
            try await done.receive()
            thread.join()
            try await server.value
            return (parked, try blocking.value!.get())
        }
        #expect(results.0 == payload)
        #expect(results.1 == payload)
    }

    @Test func pathsTheKernelCannotTakeAreClearErrors() throws {
        let longest = "/" + String(repeating: "p", count: SocketAddress.maxUnixPathLength - 1)
        #expect(SocketAddress.maxUnixPathLength == 107)
        #expect(try SocketAddress(unixPath: longest).unixPath == longest)
        let tooLong = longest + "p"
        do {
            _ = try SocketAddress(unixPath: tooLong)
            Issue.record("a 108-byte path was accepted")
        } catch let error as NetError {
            #expect(error.kind == .invalidAddress)
            #expect("\(error)".contains("108 bytes"), "\(error)")
            #expect("\(error)".contains("at most 107"), "\(error)")
        }
        #expect(throws: NetError.self) { try SocketAddress(unixPath: "") }
        #expect(throws: NetError.self) { try SocketAddress(unixPath: "a\u{0}b") }
    }

    @Test func connectingToAMissingSocketOrOneNobodyListensOnFails() throws {
        let (path, cleanUp) = try Self.socketPath()
        defer { cleanUp() }
        let address = try SocketAddress(unixPath: path)
        #expect(throws: NetError.self) { _ = try BlockingSocket.connect(to: address, timeout: .seconds(1)) }
        let error = try runTasklet { () async throws -> NetError? in
            do {
                _ = try await StreamSocket.connect(to: address, timeout: .seconds(1))
                return nil
            } catch let error as NetError { return error }
        }
        #expect(error?.errno == ENOENT, "\(String(describing: error))")
    }
}
