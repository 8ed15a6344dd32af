import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// A configured OpenSSL `SSL_CTX`: trusted CAs, verification mode and protocol floor (client),
/// or certificate and key (server). Make one per configuration and share it: making it loads
/// the CA store, which is slow; each connection then costs only an `SSL` object.
///
/// Thread rule: safe to share across threads and loops once the factory has returned; it is
/// never changed afterwards (OpenSSL allows concurrent `SSL_new` on an unchanging `SSL_CTX`).
public final class TLSContext: @unchecked Sendable {  // immutable after the factory returns, see above
    /// The `SSL_CTX *`, owned.
    let pointer: OpaquePointer
    /// Whether connections made from it take the server role.
    let isServer: Bool
    /// Whether connections check the peer's certificate and name (client contexts).
    let verifiesPeer: Bool

    private init(pointer: OpaquePointer, isServer: Bool, verifiesPeer: Bool) {
        self.pointer = pointer
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
    }

    deinit { SSL_CTX_free(pointer) }

    /// A client context: TLS 1.2 or later, trusting the system's CA store and/or `caFile`,
    /// verifying the server's chain and name unless `verifyCertificates` is off.
    /// - Throws: `TLSError` of kind `.configuration` (its message names the path) when the CA
    ///   file is missing or holds no certificate, or when OpenSSL cannot make the context.
    /// Any thread.
    public static func client(_ configuration: TLSConfiguration) throws -> TLSContext {
        let context = try make(method: TLS_client_method(), isServer: false, verifiesPeer: configuration.verifyCertificates)
        let ctx = context.pointer
        OpenSSLErrorQueue.clear()
        if configuration.useSystemCAStore, SSL_CTX_set_default_verify_paths(ctx) != 1 {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "cannot load the system CA store"))
        }
        if let caFile = configuration.caFile {
            // OpenSSL's own reason for a missing file is a bare "No such file or directory"
            // under "system library": say which file, and why from errno's point of view.
            if access(caFile, R_OK) != 0 {
                let reason = String(cString: strerror(errno))
                throw TLSError(kind: .configuration, message: "cannot read CA file '\(caFile)': \(reason)")
            }
            if SSL_CTX_load_verify_file(ctx, caFile) != 1 {
                let reason = OpenSSLErrorQueue.drainMessage(or: "no certificate found")
                throw TLSError(kind: .configuration, message: "cannot load CA file '\(caFile)': \(reason)")
            }
        }
        SSL_CTX_set_verify(ctx, configuration.verifyCertificates ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        OpenSSLErrorQueue.clear()
        return context
    }

    /// A server context presenting the PEM certificate chain in `certificateFile` (leaf first)
    /// with the PEM private key in `privateKeyFile`. It asks clients for no certificate.
    /// - Throws: `TLSError` of kind `.configuration` naming the file that is missing or bad, or
    ///   when the key does not match the certificate.
    /// Any thread.
    public static func server(certificateFile: String, privateKeyFile: String) throws -> TLSContext {
        let context = try make(method: TLS_server_method(), isServer: true, verifiesPeer: false)
        let ctx = context.pointer
        OpenSSLErrorQueue.clear()
        if SSL_CTX_use_certificate_chain_file(ctx, certificateFile) != 1 {
            let reason = OpenSSLErrorQueue.drainMessage(or: "no certificate found")
            throw TLSError(kind: .configuration, message: "cannot load certificate file '\(certificateFile)': \(reason)")
        }
        if SSL_CTX_use_PrivateKey_file(ctx, privateKeyFile, SSL_FILETYPE_PEM) != 1 {
            let reason = OpenSSLErrorQueue.drainMessage(or: "no key found")
            throw TLSError(kind: .configuration, message: "cannot load private key file '\(privateKeyFile)': \(reason)")
        }
        if SSL_CTX_check_private_key(ctx) != 1 {
            let reason = OpenSSLErrorQueue.drainMessage(or: "mismatch")
            throw TLSError(
                kind: .configuration,
                message: "private key '\(privateKeyFile)' does not match certificate '\(certificateFile)': \(reason)")
        }
        OpenSSLErrorQueue.clear()
        return context
    }

    /// The settings both roles share.
    private static func make(method: OpaquePointer?, isServer: Bool, verifiesPeer: Bool) throws -> TLSContext {
        // No SIGPIPE setting: over memory BIOs OpenSSL never writes to a descriptor; the
        // transports send with MSG_NOSIGNAL (and a loop ignores SIGPIPE anyway).
        OpenSSLErrorQueue.clear()
        guard let ctx = SSL_CTX_new(method) else {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "SSL_CTX_new failed"))
        }
        let context = TLSContext(pointer: ctx, isServer: isServer, verifiesPeer: verifiesPeer)
        guard copenssl_SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 else {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "cannot require TLS 1.2"))
        }
        // Partial writes make a write step take one record at a time, so the pump takes the
        // ciphertext record by record (up to four per transport write) and the outgoing memory
        // BIO stays at one record.
        _ = copenssl_SSL_CTX_set_mode(ctx, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // A session gives OpenSSL's record buffers (about 34 KiB) back whenever they are empty,
        // so a pooled connection keeps only what its pump holds; a busy one takes them again,
        // a malloc per record beside a 16 KiB decryption.
        _ = copenssl_SSL_CTX_set_mode(ctx, Int(SSL_MODE_RELEASE_BUFFERS))
        // No SSL_OP_IGNORE_UNEXPECTED_EOF: it makes a TCP close without close_notify look
        // like close_notify, and a body delimited by the close must tell the two apart (an
        // attacker can cut the TCP stream, not forge close_notify). `TLSMachine.read`
        // turns that EOF into an end of stream that says so (`endedWithoutCloseNotify`).
        // Renegotiation would make a write wait for the peer's bytes mid-stream, which a write
        // over memory BIOs cannot do (`TLSMachine.write` reports it as a protocol error).
        _ = SSL_CTX_set_options(ctx, copenssl_SSL_OP_NO_RENEGOTIATION())
        return context
    }
}
