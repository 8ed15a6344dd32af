import COpenSSL
import NetCore

#if canImport(Glibc)
import Glibc
#endif

/// One TLS session (`SSL *`) over a non-blocking descriptor, without any waiting: each step
/// makes what progress it can and says what it needs next. `TLSStream` (tasklets) and
/// `BlockingTLSStream` (threads) drive it, each waiting its own way.
///
/// Every step clears OpenSSL's error queue before the call and drains it after, so reasons
/// never leak between connections sharing a thread.
///
/// Thread rule: one thread at a time (the owning stream's).
final class TLSConnection {
    /// What a step achieved.
    enum Step: Equatable {
        /// Finished: the byte count for read and write (read: 0 = end of stream), 0 for a handshake.
        case done(Int)
        /// Call again when the descriptor is readable.
        case wantRead
        /// Call again when the descriptor is writable.
        case wantWrite
    }

    /// Which side of the handshake this end plays.
    enum Role {
        case client(serverName: String)
        case server
    }

    private let ssl: OpaquePointer
    /// Kept so the `SSL_CTX` outlives the `SSL` made from it.
    private let context: TLSContext
    /// For messages: "TLS handshake with example.com".
    let peerDescription: String
    private(set) var isHandshakeComplete = false
    /// Set after a fatal error: OpenSSL forbids SSL_shutdown then, and the session is unusable.
    private(set) var hasFailed = false
    private var closeNotifySent = false
    /// Set when a read reached the end of the TCP stream without the peer's close_notify: the
    /// bytes so far are authentic, but whether they are all the peer sent is unknown.
    private(set) var endedWithoutCloseNotify = false
    /// How often a step asked to wait for writability (tests check that this path ran).
    private(set) var wantWriteCount = 0
    /// How often a step asked to wait for readability.
    private(set) var wantReadCount = 0

    /// A session over `fileDescriptor` (which it does not own or close).
    /// - Throws: `TLSError` of kind `.configuration` when the context's role does not match,
    ///   the server name is empty while verification is on, or OpenSSL refuses a setting.
    init(context: TLSContext, fileDescriptor: Int32, role: Role) throws {
        self.context = context
        switch role {
        case .client(let name): peerDescription = "TLS handshake with \(name)"
        case .server: peerDescription = "TLS handshake with a client"
        }
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.pointer) else {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "SSL_new failed"))
        }
        self.ssl = ssl  // from here on deinit frees it, also when the rest of init throws
        guard SSL_set_fd(ssl, fileDescriptor) == 1 else {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "SSL_set_fd failed"))
        }
        switch role {
        case .server:
            guard context.isServer else {
                throw TLSError(kind: .configuration, message: "accepting needs a server context (TLSContext.server)")
            }
            SSL_set_accept_state(ssl)
        case .client(let serverName):
            guard !context.isServer else {
                throw TLSError(kind: .configuration, message: "connecting needs a client context (TLSContext.client)")
            }
            SSL_set_connect_state(ssl)
            try configureClient(serverName: serverName)
        }
        OpenSSLErrorQueue.clear()
    }

    deinit { SSL_free(ssl) }

    /// SNI and the name or address the certificate must match.
    private func configureClient(serverName: String) throws {
        // "[::1]" is how URLs write an IPv6 literal; the certificate holds the bare address.
        var name = serverName
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.isEmpty {
            // An empty name would silently skip the name check.
            guard !context.verifiesPeer else {
                throw TLSError(kind: .configuration, message: "an empty server name cannot be verified", context: peerDescription)
            }
            return
        }
        let isIPLiteral = Self.isIPLiteral(name)
        // RFC 6066: SNI carries host names only, never literal addresses.
        if !isIPLiteral, copenssl_SSL_set_tlsext_host_name(ssl, name) != 1 {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "cannot set SNI '\(name)'"), context: peerDescription)
        }
        guard context.verifiesPeer else { return }
        if isIPLiteral {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 else {
                throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "bad IP address '\(name)'"), context: peerDescription)
            }
        } else {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(ssl, name) == 1 else {
                throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "bad host name '\(name)'"), context: peerDescription)
            }
        }
    }

    /// True for an IPv4 or IPv6 address literal.
    static func isIPLiteral(_ name: String) -> Bool {
        var storage = in6_addr()
        return inet_pton(AF_INET, name, &storage) == 1 || inet_pton(AF_INET6, name, &storage) == 1
    }

    // MARK: - Steps

    /// One handshake step; `.done(0)` once it is complete.
    /// - Throws: `TLSError` (`.certificateVerificationFailed`, `.hostnameMismatch`,
    ///   `.handshakeFailed`), `NetError` for a socket error (reset, ...).
    func handshake() throws -> Step {
        if isHandshakeComplete { return .done(0) }
        OpenSSLErrorQueue.clear()
        errno = 0  // so a stale errno is never mistaken for this call's socket error
        let rc = SSL_do_handshake(ssl)
        let savedErrno = errno
        if rc == 1 {
            isHandshakeComplete = true
            OpenSSLErrorQueue.clear()
            return .done(0)
        }
        return try outcome(of: rc, errno: savedErrno, during: .handshake)
    }

    /// One read step into `buffer` (not empty): `.done(n)` with n > 0, or `.done(0)` at the
    /// end of the stream (close_notify, or a plain TCP close, which also sets
    /// `endedWithoutCloseNotify`).
    /// - Throws: `TLSError` of kind `.protocolError`, `NetError` for a socket error.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Step {
        precondition(buffer.count > 0, "callers return 0 for an empty buffer themselves")
        OpenSSLErrorQueue.clear()
        var count = 0
        errno = 0  // as in handshake()
        let rc = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count)
        let savedErrno = errno
        if rc == 1 { return .done(count) }
        return try outcome(of: rc, errno: savedErrno, during: .read)
    }

    /// One write step from `bytes` (not empty): `.done(n)` with the n bytes taken (partial
    /// writes are on). After a want, call again with the same bytes.
    /// - Throws: `TLSError` of kind `.protocolError`, `NetError` (`.brokenPipe`, ...).
    func write(_ bytes: UnsafeRawBufferPointer) throws -> Step {
        precondition(bytes.count > 0, "callers skip empty writes themselves")
        OpenSSLErrorQueue.clear()
        var count = 0
        errno = 0  // as in handshake()
        let rc = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &count)
        let savedErrno = errno
        if rc == 1 { return .done(count) }
        return try outcome(of: rc, errno: savedErrno, during: .write)
    }

    /// Whether an idle session can carry another request, never waiting: nothing decrypted
    /// or buffered, and whatever the socket holds is TLS housekeeping (a TLS 1.3 session
    /// ticket), not data, an alert or end of stream.
    func isIdle(socketIsIdle: Bool) -> Bool {
        guard isHandshakeComplete, !hasFailed, !closeNotifySent else { return false }
        if SSL_pending(ssl) > 0 { return false }
        if socketIsIdle, SSL_has_pending(ssl) == 0 { return true }
        // Something arrived: let OpenSSL look. A ticket is consumed and leaves WANT_READ.
        OpenSSLErrorQueue.clear()
        var byte: UInt8 = 0
        var count = 0
        let rc = SSL_peek_ex(ssl, &byte, 1, &count)
        if rc == 1 {
            OpenSSLErrorQueue.clear()
            return false
        }
        let code = SSL_get_error(ssl, Int32(rc))
        OpenSSLErrorQueue.clear()
        if code == SSL_ERROR_SSL || code == SSL_ERROR_SYSCALL { hasFailed = true }
        return code == SSL_ERROR_WANT_READ
    }

    /// Sends close_notify once if it can go out without waiting; never reads the peer's.
    func sendCloseNotify() {
        guard isHandshakeComplete, !hasFailed, !closeNotifySent else { return }
        closeNotifySent = true
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrorQueue.clear()  // a full send buffer or a gone peer: nothing to do about it
    }

    /// The negotiated protocol ("TLSv1.3"), or "unknown" before the handshake.
    var protocolVersion: String {
        guard isHandshakeComplete, let name = SSL_get_version(ssl) else { return "unknown" }
        return String(cString: name)
    }

    // MARK: - Errors

    private enum Operation {
        case handshake, read, write
        var name: String {
            switch self {
            case .handshake: return "TLS handshake"
            case .read: return "TLS read"
            case .write: return "TLS write"
            }
        }
    }

    /// Turns a failed call's result into a want, an end of stream, or an error.
    private func outcome(of rc: Int32, errno code: Int32, during operation: Operation) throws -> Step {
        let error = SSL_get_error(ssl, rc)
        // OpenSSL 3 reports a TCP end of stream without close_notify as this SSL error.
        let firstError = ERR_peek_error()
        let isUnexpectedEOF = error == SSL_ERROR_SSL && ERR_GET_LIB(firstError) == ERR_LIB_SSL
            && ERR_GET_REASON(firstError) == SSL_R_UNEXPECTED_EOF_WHILE_READING
        let reasons = OpenSSLErrorQueue.drain()
        let context = operation == .handshake ? peerDescription : nil
        switch error {
        case SSL_ERROR_WANT_READ:
            wantReadCount += 1
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            wantWriteCount += 1
            return .wantWrite
        case _ where error == SSL_ERROR_ZERO_RETURN || isUnexpectedEOF:
            // close_notify (ZERO_RETURN), or a plain TCP end of stream: both end a read; only
            // the first is authenticated.
            if isUnexpectedEOF {
                hasFailed = true
                endedWithoutCloseNotify = true
            }
            guard operation == .read else {
                hasFailed = true
                throw TLSError(
                    kind: operation == .handshake ? .handshakeFailed : .protocolError,
                    message: "the peer closed the connection during the \(operation == .handshake ? "handshake" : "write")",
                    context: context)
            }
            return .done(0)
        case SSL_ERROR_SYSCALL:
            hasFailed = true
            if reasons.isEmpty, code != 0 {
                throw NetError(errno: code, operation: operation.name, context: context)
            }
            if reasons.isEmpty, operation == .read {
                endedWithoutCloseNotify = true  // OpenSSL 1.1's way of saying the same
                return .done(0)
            }
            throw TLSError(
                kind: operation == .handshake ? .handshakeFailed : .protocolError,
                message: reasons.isEmpty ? "the peer closed the connection unexpectedly" : reasons.joined(separator: "; "),
                context: context)
        case SSL_ERROR_SSL:
            hasFailed = true
            let message = reasons.isEmpty ? "unknown OpenSSL error" : reasons.joined(separator: "; ")
            guard operation == .handshake else { throw TLSError(kind: .protocolError, message: message) }
            throw verificationError() ?? TLSError(kind: .handshakeFailed, message: message, context: context)
        default:
            hasFailed = true
            throw TLSError(
                kind: operation == .handshake ? .handshakeFailed : .protocolError,
                message: "unexpected SSL_get_error result \(error)", context: context)
        }
    }

    /// The certificate check's failure, if that is why the handshake failed.
    private func verificationError() -> TLSError? {
        let result = SSL_get_verify_result(ssl)
        guard context.verifiesPeer, result != X509_V_OK else { return nil }
        let message = X509_verify_cert_error_string(result).map { String(cString: $0) } ?? "verify error \(result)"
        let isNameMismatch = result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH
        return TLSError(kind: isNameMismatch ? .hostnameMismatch : .certificateVerificationFailed, message: message, context: peerDescription)
    }
}
