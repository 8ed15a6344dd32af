import CLinuxShim
#if canImport(Glibc)
    import Glibc
#endif

/// A socket error: what was being done, the errno the system gave, and a readable reason.
///
/// `kind` sorts the common cases so that callers can react (`.connectionReset` → retry,
/// `.connectionRefused` → nothing listens there, ...); `errno` keeps the exact code.
public struct NetError: Error, Equatable, CustomStringConvertible {
    /// The broad reason, for callers that react to it.
    public enum Kind: Sendable, Equatable {
        /// The peer reset the connection (`ECONNRESET`).
        case connectionReset
        /// Nothing listens at the address (`ECONNREFUSED`).
        case connectionRefused
        /// The connection was aborted locally (`ECONNABORTED`).
        case connectionAborted
        /// The operation ran out of time (`ETIMEDOUT`, or a NetCore timeout).
        case timedOut
        /// A write to a stream the peer has closed (`EPIPE`; SIGPIPE never fires).
        case brokenPipe
        /// The address is in use already (`EADDRINUSE`).
        case addressInUse
        /// The address is not one of this host's (`EADDRNOTAVAIL`).
        case addressNotAvailable
        /// No route to the network (`ENETUNREACH`, `ENETDOWN`).
        case networkUnreachable
        /// No route to the host (`EHOSTUNREACH`, `EHOSTDOWN`).
        case hostUnreachable
        /// A datagram larger than the socket can send (`EMSGSIZE`).
        case messageTooLong
        /// The socket was closed by this process (possibly while a tasklet waited on it).
        case closed
        /// The peer closed the stream before the expected number of bytes arrived.
        case unexpectedEOF
        /// An address string that is not a valid IPv4 or IPv6 literal, or a bad port.
        case invalidAddress
        /// Two tasklets tried to wait on the same socket in the same direction.
        case concurrentWait
        /// Any other errno: `errno` says which.
        case other
    }

    /// The broad reason.
    public var kind: Kind
    /// The errno value (0 when the error did not come from the system).
    public var errno: Int32
    /// What was being done: "connect", "read", "accept", ...
    public var operation: String
    /// Extra detail, such as the address involved.
    public var context: String?

    /// An error of `kind` from `operation` ("connect", "read", ...) with the `errno` it failed with
    /// (0 when none) and an optional context (an address, a host name).
    public init(kind: Kind, errno: Int32, operation: String, context: String? = nil) {
        self.kind = kind
        self.errno = errno
        self.operation = operation
        self.context = context
    }

    /// An error from a failed system call, sorted by its errno.
    public init(errno code: Int32, operation: String, context: String? = nil) {
        self.init(kind: NetError.kind(of: code), errno: code, operation: operation, context: context)
    }

    /// The error for a call on a closed socket.
    public static func closed(_ operation: String) -> NetError {
        NetError(kind: .closed, errno: EBADF, operation: operation, context: "the socket is closed")
    }

    /// The error for a wait that passed its timeout.
    public static func timedOut(_ operation: String, after timeout: Duration) -> NetError {
        NetError(kind: .timedOut, errno: ETIMEDOUT, operation: operation, context: "no progress within \(timeout)")
    }

    /// A one-line, human-readable account of the error, for logs and messages. It names the operation, the context and errno's message.
    public var description: String {
        var text = operation
        if let context { text += " (\(context))" }
        guard errno != 0 else { return text + " failed" }
        let reason = String(cString: strerror(errno))
        return text + " failed: \(reason) [\(NetError.name(of: errno)), errno \(errno)]"
    }

    static func kind(of code: Int32) -> Kind {
        switch code {
        case ECONNRESET: return .connectionReset
        case ECONNREFUSED: return .connectionRefused
        case ECONNABORTED: return .connectionAborted
        case ETIMEDOUT: return .timedOut
        case EPIPE: return .brokenPipe
        case EADDRINUSE: return .addressInUse
        case EADDRNOTAVAIL: return .addressNotAvailable
        case ENETUNREACH, ENETDOWN: return .networkUnreachable
        case EHOSTUNREACH, EHOSTDOWN: return .hostUnreachable
        case EMSGSIZE: return .messageTooLong
        case EBADF: return .closed
        default: return .other
        }
    }

    /// errno's symbolic name ("ECONNRESET"), for messages a person can search for; "errno N"
    /// for a code the C library does not name.
    static func name(of code: Int32) -> String {
        guard let name = cln_errno_name(code) else { return "errno \(code)" }
        return String(cString: name)
    }
}
