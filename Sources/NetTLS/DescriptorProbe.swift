#if canImport(Glibc)
    import Glibc
#endif

/// Checks on a raw descriptor that never block.
package enum DescriptorProbe {
    /// True when the socket is open, has nothing to read and no pending error: a pooled
    /// connection the server has not closed (a close shows as end-of-stream, readable at once).
    package static func isIdleAndOpen(_ fd: Int32) -> Bool {
        guard fd >= 0 else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }
}
