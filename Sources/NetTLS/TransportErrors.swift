import NetCore

/// What a driver was doing when its transport failed, so a transport's `NetError` reads as
/// the TLS operation it interrupted ("TLS read (no progress within 30 seconds) failed"), as
/// it did when TLS waited on the socket itself. The kind and errno stay the transport's, so
/// callers handle a reset or a timeout the same way with or without TLS.
enum TLSDriverOperation {
    /// The handshake, described as the machine's `peerDescription`.
    case handshake(String)
    case read
    case write

    /// `error` renamed for this operation; errors that are not `NetError`s pass unchanged.
    func rename(_ error: any Error) -> any Error {
        guard let error = error as? NetError else { return error }
        switch self {
        case .handshake(let description):
            // A timeout names the handshake and its peer; another failure names the step and
            // gives the peer as context, as before.
            if error.kind == .timedOut {
                return NetError(kind: error.kind, errno: error.errno, operation: description, context: error.context)
            }
            return NetError(kind: error.kind, errno: error.errno, operation: "TLS handshake", context: description)
        case .read:
            return NetError(kind: error.kind, errno: error.errno, operation: "TLS read", context: error.context)
        case .write:
            return NetError(kind: error.kind, errno: error.errno, operation: "TLS write", context: error.context)
        }
    }
}
