import COpenSSL
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// One TLS session (`SSL *`) over two memory BIOs: the handshake and record machine, with no
/// socket. Bytes in, bytes out: the owner feeds it the ciphertext it received
/// (`receivedCiphertext(_:)`, `receivedEndOfStream()`), takes the ciphertext it must send
/// (`takeCiphertext(into:)`), and moves plaintext with `read(into:)` and `write(_:)`. Each step
/// makes what progress it can and says what it needs next; it never waits and never calls the
/// network. `TLSStream` (tasklets) and `BlockingTLSStream` (threads) drive it through one
/// `TLSPump` over any byte stream: a socket, a proxy's CONNECT tunnel, or another TLS stream
/// (TLS inside TLS).
///
/// Every step clears OpenSSL's error queue before the call and drains it after, so reasons
/// never leak between connections sharing a thread.
///
/// Cost: memory BIOs add one copy of each ciphertext byte in each direction (into the BIO on
/// the way in, out of it on the way out). Received ciphertext is buffered only until `read`
/// or `handshake` consumes it, and produced ciphertext until `takeCiphertext` takes it: the
/// owner bounds both (`TLSPump` feeds and takes a record's worth at a time).
///
/// Thread rule: one thread at a time (the owning stream's); not `Sendable`.
public final class TLSMachine {
    /// What a handshake or read step achieved.
    public enum Step: Equatable, Sendable {
        /// Finished: the byte count for a read (0 = end of stream), 0 for a handshake.
        case done(Int)
        /// Send what `takeCiphertext` gives, then feed more received ciphertext (or its end)
        /// and call again.
        case needsCiphertext
    }

    /// Which side of the handshake this end plays.
    public enum Role: Sendable {
        /// The client: `serverName` is sent as SNI and checked against the certificate, or is
        /// an IPv4/IPv6 literal (checked against the certificate's addresses; no SNI).
        case client(serverName: String)
        /// The server, presenting the context's certificate.
        case server
    }

    private let ssl: OpaquePointer
    /// The BIO OpenSSL reads ciphertext from; owned by `ssl` (SSL_set_bio).
    private let incoming: OpaquePointer
    /// The BIO OpenSSL writes ciphertext to; owned by `ssl`.
    private let outgoing: OpaquePointer
    /// Kept so the `SSL_CTX` outlives the `SSL` made from it.
    private let context: TLSContext
    /// For messages: "TLS handshake with example.com".
    public let peerDescription: String
    /// The name or address the client connected to (for the verification hook); nil for a server.
    private let serverName: String?
    /// True once the handshake finished.
    public private(set) var isHandshakeComplete = false
    /// Set after a fatal error: OpenSSL forbids SSL_shutdown then, and the session is unusable.
    public private(set) var hasFailed = false
    private var closeNotifyQueued = false
    /// Set once a read returned end of stream (close_notify or the transport's end): later
    /// reads return 0 again instead of asking OpenSSL, which would report a spent session.
    private var reachedEnd = false
    /// Set when a read reached the end of the transport without the peer's close_notify: the
    /// bytes so far are authentic, but whether they are all the peer sent is unknown.
    public private(set) var endedWithoutCloseNotify = false

    /// A session in `role`.
    /// - Throws: `TLSError` of kind `.configuration` when the context's role does not match,
    ///   the server name is empty while verification is on, or OpenSSL refuses a setting.
    /// Any thread; the machine then stays on one thread at a time.
    public init(context: TLSContext, role: Role) throws {
        self.context = context
        switch role {
        case .client(let name):
            peerDescription = "TLS handshake with \(name)"
            serverName = name
        case .server:
            peerDescription = "TLS handshake with a client"
            serverName = nil
        }
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.pointer) else {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "SSL_new failed"))
        }
        guard let incoming = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "BIO_new failed"))
        }
        guard let outgoing = BIO_new(BIO_s_mem()) else {
            BIO_free(incoming)
            SSL_free(ssl)
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "BIO_new failed"))
        }
        // An empty memory BIO reads as "retry" (-1), which OpenSSL reports as WANT_READ: more
        // ciphertext may come. `receivedEndOfStream` switches it to a real end (0).
        SSL_set_bio(ssl, incoming, outgoing)  // from here on SSL_free frees both BIOs
        self.ssl = ssl  // from here on deinit frees it, also when the rest of init throws
        self.incoming = incoming
        self.outgoing = outgoing
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
            throw TLSError(
                kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "cannot set SNI '\(name)'"), context: peerDescription)
        }
        guard context.verifiesPeer else { return }
        if isIPLiteral {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 else {
                throw TLSError(
                    kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "bad IP address '\(name)'"), context: peerDescription)
            }
        } else {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(ssl, name) == 1 else {
                throw TLSError(
                    kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "bad host name '\(name)'"), context: peerDescription)
            }
        }
    }

    /// True for an IPv4 or IPv6 address literal.
    static func isIPLiteral(_ name: String) -> Bool {
        var storage = in6_addr()
        return inet_pton(AF_INET, name, &storage) == 1 || inet_pton(AF_INET6, name, &storage) == 1
    }

    // MARK: - Bytes in, bytes out

    /// Hands the machine ciphertext received from the peer, in order. It is buffered until a
    /// handshake or read step consumes it (one copy).
    /// - Throws: `TLSError` of kind `.protocolError` when OpenSSL cannot buffer it (out of memory).
    public func receivedCiphertext(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            // BIO_write takes an Int32 count.
            let piece = Int32(min(left, 1 << 30))
            OpenSSLErrorQueue.clear()
            let written = BIO_write(incoming, base, piece)
            guard written > 0 else {
                hasFailed = true
                throw TLSError(kind: .protocolError, message: OpenSSLErrorQueue.drainMessage(or: "cannot buffer received ciphertext"))
            }
            base += Int(written)
            left -= Int(written)
        }
    }

    /// Tells the machine the peer's byte stream ended (a TCP FIN, a closed tunnel). Ciphertext
    /// already fed is still read first; then a read returns 0, with `endedWithoutCloseNotify`
    /// set unless the peer's close_notify came first, and a handshake fails.
    public func receivedEndOfStream() {
        // BIO_set_mem_eof_return is a macro over BIO_ctrl: an empty BIO now reads as 0 (end),
        // which OpenSSL 3 reports as "unexpected eof while reading".
        _ = BIO_ctrl(incoming, BIO_C_SET_BUF_MEM_EOF_RETURN, 0, nil)
    }

    /// The ciphertext waiting to be sent, in bytes.
    public var pendingCiphertextCount: Int { Int(BIO_ctrl_pending(outgoing)) }

    /// Moves up to `buffer.count` bytes of ciphertext to send into `buffer` (one copy), oldest
    /// first; the caller must send them, in order, before any it takes later.
    /// - Returns: the byte count; 0 when there is nothing to send.
    public func takeCiphertext(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0, pendingCiphertextCount > 0 else { return 0 }
        OpenSSLErrorQueue.clear()
        let count = BIO_read(outgoing, base, Int32(min(buffer.count, 1 << 30)))
        OpenSSLErrorQueue.clear()
        return max(0, Int(count))
    }

    // MARK: - Steps

    /// One handshake step; `.done(0)` once it is complete. After every step, send what
    /// `takeCiphertext` gives (the last flight too).
    /// - Throws: `TLSError` (`.certificateVerificationFailed`, `.hostnameMismatch`,
    ///   `.handshakeFailed`).
    public func handshake() throws -> Step {
        if isHandshakeComplete { return .done(0) }
        OpenSSLErrorQueue.clear()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            OpenSSLErrorQueue.clear()
            if serverName != nil, context.checksPeerAfterHandshake {
                // The chain check (if on) has passed inside OpenSSL; now the pins and the hook.
                // Our Finished may be queued: the caller closes without sending it.
                if let refusal = peerCheckFailure() {
                    hasFailed = true
                    throw refusal
                }
            }
            isHandshakeComplete = true
            return .done(0)
        }
        return try outcome(of: rc, during: .handshake)
    }

    // MARK: - The client's own checks

    /// The pins' and then the hook's refusal of the server, or nil when both accept.
    private func peerCheckFailure() -> TLSError? {
        guard let leaf = SSL_get0_peer_certificate(ssl) else {
            return TLSError(kind: .publicKeyPinMismatch, message: "the server presented no certificate", context: peerDescription)
        }
        if !context.pinnedKeyDigests.isEmpty {
            guard let digest = Self.publicKeyDigest(of: leaf) else {
                return TLSError(
                    kind: .publicKeyPinMismatch, message: OpenSSLErrorQueue.drainMessage(or: "cannot hash the server's public key"),
                    context: peerDescription)
            }
            if !context.pinnedKeyDigests.contains(digest) {
                return TLSError(
                    kind: .publicKeyPinMismatch,
                    message: "the server's public key sha256//\(digest) is not among the \(context.pinnedKeyDigests.count) pinned",
                    context: peerDescription)
            }
        }
        if let hook = context.verificationHook {
            if case .reject(let reason) = hook.check(peerCertificateChain, serverName ?? "") {
                return TLSError(kind: .rejectedByVerificationHook, message: reason, context: peerDescription)
            }
        }
        return nil
    }

    /// The base64 SHA-256 of a certificate's DER SubjectPublicKeyInfo (curl's pin form).
    static func publicKeyDigest(of certificate: OpaquePointer) -> String? {
        guard let key = X509_get_X509_PUBKEY(certificate) else { return nil }
        let length = i2d_X509_PUBKEY(key, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_X509_PUBKEY(key, &cursor)
        }
        guard written == length else { return nil }
        var digest = [UInt8](repeating: 0, count: 32)
        var digestLength: UInt32 = 0
        guard EVP_Digest(der, der.count, &digest, &digestLength, EVP_sha256(), nil) == 1, digestLength == 32 else { return nil }
        return Base64.encode(digest)
    }

    /// A certificate's DER bytes.
    static func derBytes(of certificate: OpaquePointer) -> [UInt8] {
        let length = i2d_X509(certificate, nil)
        guard length > 0 else { return [] }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_X509(certificate, &cursor)
        }
        return written == length ? der : []
    }

    /// The certificates the peer presented, DER, leaf first, as sent (not a verified chain);
    /// empty when it presented none. A server sees the client's once its handshake is done.
    public var peerCertificateChain: [[UInt8]] {
        guard let leaf = SSL_get0_peer_certificate(ssl) else { return [] }
        var chain = [Self.derBytes(of: leaf)]
        // A client's stack starts with the leaf; a server's holds only the rest.
        if let stack = SSL_get_peer_cert_chain(ssl) {
            for index in 0..<copenssl_sk_X509_num(stack) {
                guard let certificate = copenssl_sk_X509_value(stack, index), X509_cmp(certificate, leaf) != 0 else { continue }
                chain.append(Self.derBytes(of: certificate))
            }
        }
        OpenSSLErrorQueue.clear()
        return chain
    }

    /// The ALPN protocol both ends agreed on ("http/1.1"), or nil for none (or before the handshake).
    public var negotiatedApplicationProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// One read step into `buffer` (not empty): `.done(n)` with n > 0, or `.done(0)` at the
    /// end of the stream (close_notify, or the transport's end, which also sets
    /// `endedWithoutCloseNotify`), or `.needsCiphertext`.
    /// - Throws: `TLSError` of kind `.protocolError` (a corrupt record, an alert, ...).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Step {
        guard buffer.count > 0 else { return .done(0) }
        if reachedEnd { return .done(0) }
        OpenSSLErrorQueue.clear()
        var count = 0
        let rc = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count)
        if rc == 1 { return .done(count) }
        let step = try outcome(of: rc, during: .read)
        if step == .done(0) { reachedEnd = true }
        return step
    }

    /// Encrypts from `bytes` (not empty) into the ciphertext to send: at most one record's worth
    /// per call (partial writes are on), so the caller decides how much ciphertext to batch.
    /// - Returns: the plaintext bytes taken (> 0).
    /// - Throws: `TLSError` of kind `.protocolError`, also after the peer's end or a failure.
    public func write(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        guard bytes.count > 0 else { return 0 }
        OpenSSLErrorQueue.clear()
        var count = 0
        let rc = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &count)
        if rc == 1 { return count }
        switch try outcome(of: rc, during: .write) {
        case .done(let taken) where taken > 0: return taken
        default:
            // A memory BIO always takes what is written, and renegotiation is off: a write
            // that wants the peer's bytes first is a protocol state this code never enters.
            hasFailed = true
            throw TLSError(kind: .protocolError, message: "a TLS write asked to read first")
        }
    }

    /// Whether the session is fit to carry more requests, given all ciphertext received so far:
    /// nothing decrypted or buffered but TLS housekeeping (a TLS 1.3 session ticket, which is
    /// consumed), no alert, no end. Never waits; the caller feeds what already arrived first.
    public func isIdle() -> Bool {
        guard isHandshakeComplete, !hasFailed, !closeNotifyQueued, !reachedEnd else { return false }
        if SSL_pending(ssl) > 0 { return false }
        if BIO_ctrl_pending(incoming) == 0, SSL_has_pending(ssl) == 0, BIO_ctrl(incoming, BIO_CTRL_EOF, 0, nil) == 0 {
            return true
        }
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

    /// Queues close_notify once (to be sent with the rest of `takeCiphertext`); never waits for
    /// the peer's. Nothing is queued before the handshake finished or after a failure.
    /// - Returns: true when close_notify was queued now.
    @discardableResult
    public func queueCloseNotify() -> Bool {
        guard isHandshakeComplete, !hasFailed, !closeNotifyQueued else { return false }
        closeNotifyQueued = true
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(ssl)  // 0: sent ours, the peer's not seen; that is all we ask
        OpenSSLErrorQueue.clear()
        return true
    }

    /// True once close_notify was queued: the session carries nothing more.
    public var isClosing: Bool { closeNotifyQueued }

    /// The negotiated protocol ("TLSv1.3"), or "unknown" before the handshake.
    public var protocolVersion: String {
        guard isHandshakeComplete, let name = SSL_get_version(ssl) else { return "unknown" }
        return String(cString: name)
    }

    // MARK: - Errors

    private enum Operation {
        case handshake, read, write
    }

    /// Turns a failed call's result into a need for ciphertext, an end of stream, or an error.
    /// WANT_WRITE cannot happen (a memory BIO takes every write) and lands in `default`.
    private func outcome(of rc: Int32, during operation: Operation) throws -> Step {
        let error = SSL_get_error(ssl, rc)
        // OpenSSL 3 reports a TCP end of stream without close_notify as this SSL error.
        let firstError = ERR_peek_error()
        let isUnexpectedEOF =
            error == SSL_ERROR_SSL && ERR_GET_LIB(firstError) == ERR_LIB_SSL
            && ERR_GET_REASON(firstError) == SSL_R_UNEXPECTED_EOF_WHILE_READING
        let reasons = OpenSSLErrorQueue.drain()
        let context = operation == .handshake ? peerDescription : nil
        switch error {
        case SSL_ERROR_WANT_READ:
            return .needsCiphertext
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
            // Memory BIOs make no system call: this is an end of the fed bytes that OpenSSL
            // did not classify (OpenSSL 1.1's way of saying unexpected EOF), or a BIO failure.
            hasFailed = true
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
            guard operation == .handshake else { throw TLSError(kind: .protocolError, message: Self.explained(message)) }
            throw verificationError() ?? TLSError(kind: .handshakeFailed, message: explainedHandshakeFailure(message), context: context)
        default:
            hasFailed = true
            throw TLSError(
                kind: operation == .handshake ? .handshakeFailed : .protocolError,
                message: "unexpected SSL_get_error result \(error)", context: context)
        }
    }

    /// OpenSSL's reasons, with what they mean for this end when they name a version floor.
    private func explainedHandshakeFailure(_ message: String) -> String {
        let noCommonVersion =
            message.contains("protocol version") || message.contains("unsupported protocol")
            || message.contains("no protocols available")
        if noCommonVersion, serverName != nil {
            return "no protocol version in common: this client requires \(context.minimumVersion) or later "
                + "(TLSConfiguration.minimumVersion) and the server offers none of them (\(message))"
        }
        return Self.explained(message)
    }

    /// An alert about this end's certificate, said from this end's point of view.
    static func explained(_ message: String) -> String {
        let refusals = ["certificate required", "bad certificate", "unknown ca", "certificate unknown"]
        guard message.contains("alert"), refusals.contains(where: { message.contains($0) }) else { return message }
        return "the peer refused the handshake, often because it wants a client certificate it trusts "
            + "(TLSConfiguration.clientCertificate) (\(message))"
    }

    /// The certificate check's failure, if that is why the handshake failed.
    private func verificationError() -> TLSError? {
        let result = SSL_get_verify_result(ssl)
        guard context.verifiesPeer, result != X509_V_OK else { return nil }
        let message = X509_verify_cert_error_string(result).map { String(cString: $0) } ?? "verify error \(result)"
        let isNameMismatch = result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH
        return TLSError(
            kind: isNameMismatch ? .hostnameMismatch : .certificateVerificationFailed, message: message, context: peerDescription)
    }
}
