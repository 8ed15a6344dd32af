import NetCore
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A server that answers a connection's first request (kept alive) and closes it on reading
/// the second, with no byte of answer, as a server whose keep-alive timer fires then would;
/// the next connection is answered. Blocking sockets on a thread of its own.
final class StaleSecondRequestServer: @unchecked Sendable {  // fd and counts: set on its thread, read after `stop` joins it
    let port: UInt16
    private let listener: Int32
    private var thread: pthread_t?
    private(set) var connectionsAccepted = 0

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw TestFailure("cannot listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        thread = try OSThreads.start { [self] in serve() }
    }

    private func serve() {
        // Connection 1: answer, then close at the next request. Connection 2: answer everything.
        for connection in 0..<2 {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            connectionsAccepted += 1
            while readRequest(fd) {
                if connection == 0 && answered(fd) { break }
                _ = answer(fd)
            }
            close(fd)
        }
    }

    private var answeredOnFirst = false
    private func answered(_ fd: Int32) -> Bool {
        defer { answeredOnFirst = true }
        return answeredOnFirst
    }

    private func readRequest(_ fd: Int32) -> Bool {
        var seen: [UInt8] = []
        var byte: UInt8 = 0
        while !seen.ends(with: Array("\r\n\r\n".utf8)) {
            guard recv(fd, &byte, 1, 0) == 1 else { return false }
            seen.append(byte)
        }
        return true
    }

    private func answer(_ fd: Int32) -> Bool {
        let text = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)
        return text.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == text.count
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
