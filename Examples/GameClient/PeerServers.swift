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
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let cpus { try CPUPlacement.setCPUs(cpus, on: &attributes) }
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
        let box = Unmanaged.passRetained(loop).toOpaque()
        let rc = pthread_create(&thread, &attributes, { raw in
            Unmanaged<Loop>.fromOpaque(raw!).takeRetainedValue().run()  // passed retained above
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Loop>.fromOpaque(box).release()  // the thread never took it
            listener.close()
            udp.close()
            if let cpus, let placement = CPUPlacement.threadStartError(rc, cpus: cpus) { throw placement }
            throw GameError("could not start the peers' thread: pthread_create returned \(rc)")
        }
    }

    /// Stops the peers' loop (its tasklets are parked forever otherwise) and joins the thread.
    func stop() {
        loop.stop()
        pthread_join(thread, nil)
    }
}
