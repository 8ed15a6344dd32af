import NetCore
import NetTLS

/// Runs a `ProxyHandshake` over a connection to the proxy: the one loop for each engine.
enum ProxyTunnel {
    /// Parks on `stream` until the tunnel is open, each read and write within what is left
    /// until `deadline` (a proxy that trickles its reply cannot stretch the connect timeout).
    /// - Throws: `HTTPClientError.proxy`, or the stream's errors (`NetError`, `TLSError`).
    nonisolated(nonsending) static func open(
        _ handshake: ProxyHandshake, over stream: any AsyncByteStream, deadline: ContinuousClock.Instant?
    ) async throws {
        var handshake = handshake
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        var action = handshake.start()
        while true {
            switch action {
            case .write(let bytes):
                // A handshake message is at most a few hundred bytes: copy it to memory that may
                // be held across the await (an array's storage may not).
                let outgoing = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
                defer { outgoing.deallocate() }
                outgoing.copyBytes(from: bytes)
                try await stream.write(UnsafeRawBufferPointer(outgoing), timeout: ConnectRoute.left(until: deadline))
                action = handshake.wrote()
            case .read:
                let count = try await stream.read(into: buffer, timeout: ConnectRoute.left(until: deadline))
                action = count == 0 ? handshake.ended() : handshake.received(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            case .open: return
            case .failed(let error): throw HTTPClientError.proxy(error)
            }
        }
    }

    /// Blocks on `stream` until the tunnel is open, within `deadline`. - Throws: as the async `open`.
    static func open(_ handshake: ProxyHandshake, over stream: any BlockingByteStream, deadline: ContinuousClock.Instant?) throws {
        var handshake = handshake
        var buffer = [UInt8](repeating: 0, count: 4096)
        var action = handshake.start()
        while true {
            switch action {
            case .write(let bytes):
                try bytes.withUnsafeBytes { try stream.write($0, timeout: ConnectRoute.left(until: deadline)) }
                action = handshake.wrote()
            case .read:
                let count = try buffer.withUnsafeMutableBytes { try stream.read(into: $0, timeout: ConnectRoute.left(until: deadline)) }
                action = count == 0 ? handshake.ended() : handshake.received(buffer[0..<count])
            case .open: return
            case .failed(let error): throw HTTPClientError.proxy(error)
            }
        }
    }
}
