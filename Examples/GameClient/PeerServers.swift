import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// The game's other ends, on a loop of their own thread: a chat server that echoes each line
/// over TCP, and a state-sync peer that echoes each UDP datagram. Its thread runs on `cpus` if
/// given: stand-ins for remote peers belong off the game client's cores.
final class PeerServers: @unchecked Sendable {  // addresses are written before the thread starts
    let chatAddress: SocketAddress
    let syncAddress: SocketAddress
    private let loop: Loop
    private var thread = pthread_t()

    init(cpus: [Int]? = nil) throws {
        if let cpus { try CPUPlacement.validate(cpus) }  // before anything is bound
        loop = try Loop(name: "peers")
        let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        let udp = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
        chatAddress = try listener.localAddress()
        syncAddress = try udp.localAddress()
        loop.spawn(name: "chat-accept") { [loop] in
            while true {
                let connection = try await listener.accept()
                loop.spawn(name: "chat-connection") {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while case let n = try await connection.read(into: &buffer), n > 0 {
                        try await connection.write(Array(buffer[0..<n]))
                    }
                    connection.close()
                }
            }
        }
        loop.spawn(name: "sync-echo") {
            while true {
                let (bytes, from) = try await udp.receive(maxBytes: 2048)
                try await udp.send(bytes, to: from)
            }
        }
        do {
            thread = try OSThreads.start(cpus: cpus) { [loop] in loop.run() }
        } catch {
            listener.close()
            udp.close()
            throw error
        }
    }

    /// Stops the peers' loop (its tasklets are parked forever otherwise) and joins the thread.
    func stop() {
        loop.stop()
        pthread_join(thread, nil)
    }
}
