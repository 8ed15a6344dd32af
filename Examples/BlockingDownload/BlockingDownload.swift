import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// Touched only by tasklets of the example's one loop.
final class TickCounter: @unchecked Sendable {  // loop thread only
    var count = 0
}

/// Plain blocking POSIX socket code, as a third-party library would have it.
func blockingDownload(port: UInt16) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw NetError(errno: errno, operation: "socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { throw NetError(errno: errno, operation: "connect") }
    var buffer = [UInt8](repeating: 0, count: 256 << 10)
    var total = 0
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw NetError(errno: errno, operation: "recv") }
        if n == 0 { return total }
        total += n
    }
}
