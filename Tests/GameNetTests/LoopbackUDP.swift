import NetCore

@testable import GameNet

/// A host's and a client's UDP sockets on 127.0.0.1 (ports the kernel picks) and the host's
/// address, for the tests that run GameNet over real sockets.
func loopbackSocketPair() throws -> (host: UDPSocket, client: UDPSocket, hostAddress: SocketAddress) {
    let host = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
    let client = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
    return (host, client, try host.localAddress())
}

extension GameNetConfig {
    /// The defaults with another keep-alive interval and dead-peer timeout.
    static func keepAlive(_ keepAliveNs: Int64, timeout timeoutNs: Int64) -> GameNetConfig {
        var config = GameNetConfig()
        config.keepAliveNs = keepAliveNs
        config.timeoutNs = timeoutNs
        return config
    }
}
