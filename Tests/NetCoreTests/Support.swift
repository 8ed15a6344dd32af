import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// Turns for the tests that need descriptors below FD_SETSIZE (select) and the one that opens
/// two thousand: run at once in one test process, the second leaves the first no low numbers
/// (seen in CI: select's descriptor was 1251).
let lowDescriptorTurns = PThreadMutex()

/// Runs `loop` on a new OS thread and returns the thread to join.
func runOnThread(_ loop: Loop) -> TestThread {
    TestThread.start { loop.run() }
}

/// A listener on 127.0.0.1 with a free port.
func loopbackListener() throws -> (TCPListener, SocketAddress) {
    let listener = try TCPListener(bindTo: .loopbackIPv4(port: 0))
    return (listener, try listener.localAddress())
}

/// A UDP socket on 127.0.0.1 with a free port, and its address.
func loopbackUDP() throws -> (UDPSocket, SocketAddress) {
    let socket = try UDPSocket(bindTo: .loopbackIPv4(port: 0))
    return (socket, try socket.localAddress())
}
