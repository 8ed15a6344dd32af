import NetCore
import Workers

/// The blocking engine talks over a `BlockingSocket` (NetCore) as over any `BlockingByteStream`.
extension BlockingSocket: BlockingByteStream {
    /// Whether an idle connection can carry another request (see `BlockingByteStream`). Never waits.
    public var isReusable: Bool { isIdleAndOpen }

    /// Resolves `host` on the calling thread (getaddrinfo, which blocks) and connects to its
    /// addresses of the allowed families one by one, alternating families (RFC 8305's order).
    /// Starts no thread. Call on a worker thread.
    /// - Throws: `ResolverError`; the last address's `NetError`.
    public static func connect(host: String, port: UInt16, timeout: Duration?, families: AddressFamilies = .any) throws -> BlockingSocket {
        var lastError: (any Error)?
        for address in HappyEyeballs.order(try Resolver.lookUp(host: host, port: port), families: families) {
            do {
                return try connect(to: address, timeout: timeout)
            } catch let error as NetError {
                lastError = error
            }
        }
        throw lastError ?? NetError(kind: .other, errno: 0, operation: "connect to \(host)", context: "no address")
    }
}
