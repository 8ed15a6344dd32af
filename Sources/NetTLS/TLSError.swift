/// A TLS failure: what kind, OpenSSL's reason, and for whom.
///
/// Socket-level failures during TLS (a reset, a timeout, a closed socket) stay `NetError`s so
/// callers handle them the same way with or without TLS.
public struct TLSError: Error, Equatable, CustomStringConvertible {
    /// The broad reason, for callers that react to it.
    public enum Kind: Sendable, Equatable {
        /// The context could not be made: a missing or bad CA, certificate or key file, or an
        /// unusable server name.
        case configuration
        /// The server's certificate chain is not trusted (self-signed, unknown issuer, expired, ...).
        case certificateVerificationFailed
        /// The chain is trusted but the certificate is not for the name or address connected to.
        case hostnameMismatch
        /// The server's public key matches none of `TLSConfiguration.pinnedPublicKeys` (whether
        /// or not its chain is trusted).
        case publicKeyPinMismatch
        /// `TLSConfiguration.verificationHook` refused the server; the message is its reason.
        case rejectedByVerificationHook
        /// The handshake failed for another reason: the peer does not speak TLS, no common
        /// protocol version or cipher, the peer sent an alert or closed the connection.
        case handshakeFailed
        /// A TLS error after the handshake: a corrupt record, an alert, a bad MAC.
        case protocolError
    }

    /// The broad reason.
    public var kind: Kind
    /// OpenSSL's reason ("self-signed certificate", "wrong version number", ...).
    public var message: String
    /// What was being done, such as "TLS handshake with example.com"; nil when obvious.
    public var context: String?

    /// An error; public so that other modules (the test server) can report TLS setup failures.
    public init(kind: Kind, message: String, context: String? = nil) {
        self.kind = kind
        self.message = message
        self.context = context
    }

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        let prefix = context.map { "\($0): " } ?? ""
        switch kind {
        case .configuration:
            return prefix + "TLS configuration error: \(message)"
        case .certificateVerificationFailed:
            return prefix + "the server's certificate is not trusted (\(message)); "
                + "if it is issued by a private CA or self-signed, pass the issuer's CA file "
                + "(TLSConfiguration.caFile), or turn verification off (insecure)"
        case .hostnameMismatch:
            return prefix + "the server's certificate is not valid for this name or address (\(message)); "
                + "connect with a name the certificate lists, or turn verification off (insecure)"
        case .publicKeyPinMismatch:
            return prefix + "the server's public key is not pinned (\(message)); "
                + "check TLSConfiguration.pinnedPublicKeys (netget --pinnedpubkey) against the server's key"
        case .rejectedByVerificationHook:
            return prefix + "the verification hook refused the server: \(message)"
        case .handshakeFailed:
            return prefix + "TLS handshake failed: \(message)"
        case .protocolError:
            return prefix + "TLS protocol error: \(message)"
        }
    }
}
