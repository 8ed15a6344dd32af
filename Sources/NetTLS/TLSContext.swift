import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// A configured OpenSSL `SSL_CTX`: trusted CAs, verification mode, protocol floor, client
/// certificate, ALPN offer, pins and hook (client), or certificate and key, client CAs,
/// version cap and ALPN choice (server). Make one per configuration and share it: making it loads
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
    /// The pins' base64 SHA-256 digests of the server's SubjectPublicKeyInfo (client contexts).
    let pinnedKeyDigests: [String]
    /// The caller's own check (client contexts).
    let verificationHook: TLSVerificationHook?
    /// The floor, for naming it when a handshake finds no version in common.
    let minimumVersion: TLSVersion
    /// A server's ALPN list, which OpenSSL's select callback reads; freed after the context.
    private var serverProtocols: UnsafeMutablePointer<copenssl_alpn_list>?

    private init(
        pointer: OpaquePointer, isServer: Bool, verifiesPeer: Bool, pinnedKeyDigests: [String] = [],
        verificationHook: TLSVerificationHook? = nil, minimumVersion: TLSVersion = .tls12
    ) {
        self.pointer = pointer
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
        self.pinnedKeyDigests = pinnedKeyDigests
        self.verificationHook = verificationHook
        self.minimumVersion = minimumVersion
    }

    deinit {
        SSL_CTX_free(pointer)
        if let serverProtocols {
            serverProtocols.pointee.bytes.deallocate()
            serverProtocols.deallocate()
        }
    }

    /// Whether handshakes end with checks of this context's own (pins, the hook).
    var checksPeerAfterHandshake: Bool { !pinnedKeyDigests.isEmpty || verificationHook != nil }

    /// A client context as `configuration` says: trusting the system's CA store and/or
    /// `caFile`, verifying the server's chain and name unless `verifyCertificates` is off, at
    /// least `minimumVersion`, presenting `clientCertificate`, offering `applicationProtocols`;
    /// pins and the hook are checked by each `TLSMachine` at the end of its handshake.
    /// - Throws: `TLSError` of kind `.configuration` (its message names the path or the
    ///   setting) when the CA file is missing or holds no certificate, the client certificate
    ///   or key cannot be read (a wrong or missing passphrase included) or do not match, a pin
    ///   is not `sha256//` and 44 base64 characters, an ALPN name is empty or over 255 bytes,
    ///   or OpenSSL cannot make the context.
    /// Any thread. Cost: loading the system store takes milliseconds; make one per configuration.
    public static func client(_ configuration: TLSConfiguration) throws -> TLSContext {
        let digests = try configuration.pinnedPublicKeys.flatMap(Self.parsePins)
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "SSL_CTX_new failed"))
        }
        let context = TLSContext(
            pointer: ctx, isServer: false, verifiesPeer: configuration.verifyCertificates, pinnedKeyDigests: digests,
            verificationHook: configuration.verificationHook, minimumVersion: configuration.minimumVersion)
        try context.applyCommonSettings(minimumVersion: configuration.minimumVersion)
        OpenSSLErrorQueue.clear()
        if configuration.useSystemCAStore, SSL_CTX_set_default_verify_paths(ctx) != 1 {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "cannot load the system CA store"))
        }
        if let caFile = configuration.caFile { try context.loadTrustedCertificates(caFile, what: "CA file") }
        if let identity = configuration.clientCertificate {
            try context.useCertificate(
                identity.certificateFile, key: identity.privateKeyFile, passphrase: identity.privateKeyPassphrase, role: "client")
        }
        if !configuration.applicationProtocols.isEmpty {
            let wire = try Self.alpnWireFormat(configuration.applicationProtocols)
            // SSL_CTX_set_alpn_protos returns 0 on success, unlike most of OpenSSL.
            guard SSL_CTX_set_alpn_protos(ctx, wire, UInt32(wire.count)) == 0 else {
                throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "cannot set the ALPN protocols"))
            }
        }
        SSL_CTX_set_verify(ctx, configuration.verifyCertificates ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        OpenSSLErrorQueue.clear()
        return context
    }

    /// A server context presenting the PEM certificate chain in `certificateFile` (leaf first)
    /// with the PEM private key in `privateKeyFile`.
    /// - Parameters:
    ///   - certificateFile: the PEM chain, leaf first.
    ///   - privateKeyFile: the leaf's PEM private key.
    ///   - clientCAFile: when set, every client must present a certificate issued by (or
    ///     listed in) this PEM file; the handshake fails for one that presents none or another.
    ///   - maximumVersion: the newest version offered (nil: TLS 1.3), for tests of old servers.
    ///   - applicationProtocols: the ALPN names chosen from, most preferred first; none
    ///     offered by the client: no ALPN.
    /// - Throws: `TLSError` of kind `.configuration` naming the file that is missing or bad, or
    ///   when the key does not match the certificate.
    /// Any thread.
    public static func server(
        certificateFile: String, privateKeyFile: String, clientCAFile: String? = nil, maximumVersion: TLSVersion? = nil,
        applicationProtocols: [String] = []
    ) throws -> TLSContext {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "SSL_CTX_new failed"))
        }
        let context = TLSContext(pointer: ctx, isServer: true, verifiesPeer: clientCAFile != nil)
        try context.applyCommonSettings(minimumVersion: .tls12)
        try context.useCertificate(certificateFile, key: privateKeyFile, passphrase: nil, role: nil)
        if let clientCAFile {
            try context.loadTrustedCertificates(clientCAFile, what: "client CA file")
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
        if let maximumVersion, copenssl_SSL_CTX_set_max_proto_version(ctx, maximumVersion.openSSLValue) != 1 {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "cannot cap the version at \(maximumVersion)"))
        }
        if !applicationProtocols.isEmpty {
            let wire = try Self.alpnWireFormat(applicationProtocols)
            let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: wire.count)
            bytes.initialize(from: wire, count: wire.count)
            let list = UnsafeMutablePointer<copenssl_alpn_list>.allocate(capacity: 1)
            list.initialize(to: copenssl_alpn_list(bytes: bytes, length: UInt32(wire.count)))
            context.serverProtocols = list
            copenssl_SSL_CTX_set_alpn_server_list(ctx, list)
        }
        OpenSSLErrorQueue.clear()
        return context
    }

    // MARK: - Parts

    /// Adds the PEM certificates in `file` to the trusted ones.
    private func loadTrustedCertificates(_ file: String, what: String) throws {
        // OpenSSL's own reason for a missing file is a bare "No such file or directory"
        // under "system library": say which file, and why from errno's point of view.
        if access(file, R_OK) != 0 {
            let reason = String(cString: strerror(errno))
            throw TLSError(kind: .configuration, message: "cannot read \(what) '\(file)': \(reason)")
        }
        OpenSSLErrorQueue.clear()
        if SSL_CTX_load_verify_file(pointer, file) != 1 {
            let reason = OpenSSLErrorQueue.drainMessage(or: "no certificate found")
            throw TLSError(kind: .configuration, message: "cannot load \(what) '\(file)': \(reason)")
        }
    }

    /// Presents the chain in `certificateFile` with the key in `keyFile`, decrypted with
    /// `passphrase`; `role` ("client") words the errors.
    private func useCertificate(_ certificateFile: String, key keyFile: String, passphrase: String?, role: String?) throws {
        let certificateWhat = role.map { "\($0) certificate file" } ?? "certificate file"
        let keyWhat = role.map { "\($0) private key file" } ?? "private key file"
        for (file, what) in [(certificateFile, certificateWhat), (keyFile, keyWhat)] where access(file, R_OK) != 0 {
            let reason = String(cString: strerror(errno))
            throw TLSError(kind: .configuration, message: "cannot read \(what) '\(file)': \(reason)")
        }
        OpenSSLErrorQueue.clear()
        if SSL_CTX_use_certificate_chain_file(pointer, certificateFile) != 1 {
            let reason = OpenSSLErrorQueue.drainMessage(or: "no certificate found")
            throw TLSError(kind: .configuration, message: "cannot load \(certificateWhat) '\(certificateFile)': \(reason)")
        }
        let loaded = withOptionalCString(passphrase) { text -> Int32 in
            copenssl_SSL_CTX_set_passphrase(pointer, text)
            defer { copenssl_SSL_CTX_set_passphrase(pointer, nil) }  // the string dies after this closure
            return SSL_CTX_use_PrivateKey_file(pointer, keyFile, SSL_FILETYPE_PEM)
        }
        if loaded != 1 {
            var reason = OpenSSLErrorQueue.drainMessage(or: "no key found")
            if reason.contains("key values mismatch") {
                let subject = role.map { "\($0) " } ?? ""
                throw TLSError(
                    kind: .configuration,
                    message: "\(subject)private key '\(keyFile)' does not match certificate '\(certificateFile)': \(reason)")
            }
            if passphrase == nil, reason.contains("bad decrypt") || reason.contains("passphrase") || reason.contains("bad password read") {
                reason = "the key is encrypted and no passphrase was given (\(reason))"
            } else if passphrase != nil, reason.contains("bad decrypt") {
                reason = "wrong passphrase (\(reason))"
            }
            throw TLSError(kind: .configuration, message: "cannot load \(keyWhat) '\(keyFile)': \(reason)")
        }
        if SSL_CTX_check_private_key(pointer) != 1 {
            let reason = OpenSSLErrorQueue.drainMessage(or: "mismatch")
            let subject = role.map { "\($0) " } ?? ""
            throw TLSError(
                kind: .configuration,
                message: "\(subject)private key '\(keyFile)' does not match certificate '\(certificateFile)': \(reason)")
        }
    }

    private func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }

    /// The base64 digests in one `pinnedPublicKeys` entry ("sha256//A=;sha256//B=").
    static func parsePins(_ entry: String) throws -> [String] {
        try entry.split(separator: ";", omittingEmptySubsequences: true).map { raw in
            let pin = raw.trimmingSpaces
            let prefix = "sha256//"
            guard pin.hasPrefix(prefix) else {
                throw TLSError(kind: .configuration, message: "pinned public key '\(pin)' does not start with sha256//")
            }
            let digest = String(pin.dropFirst(prefix.count))
            let isBase64 = digest.utf8.allSatisfy { byte in
                (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2B
                    || byte == 0x2F || byte == 0x3D
            }
            // A SHA-256 digest is 32 bytes: 43 base64 characters and one "=".
            guard digest.utf8.count == 44, digest.hasSuffix("="), !digest.dropLast().contains("="), isBase64 else {
                throw TLSError(
                    kind: .configuration,
                    message: "pinned public key '\(pin)' is not sha256// and the 44-character base64 of a SHA-256 digest")
            }
            return digest
        }
    }

    /// ALPN names as the wire carries them: each prefixed with its length.
    static func alpnWireFormat(_ names: [String]) throws -> [UInt8] {
        var wire: [UInt8] = []
        for name in names {
            guard !name.isEmpty, name.utf8.count <= 255 else {
                throw TLSError(kind: .configuration, message: "ALPN protocol name '\(name)' must have 1 to 255 bytes")
            }
            wire.append(UInt8(name.utf8.count))
            wire += name.utf8
        }
        return wire
    }

    /// The settings both roles share.
    private func applyCommonSettings(minimumVersion: TLSVersion) throws {
        let ctx = pointer
        // No SIGPIPE setting: over memory BIOs OpenSSL never writes to a descriptor; the
        // transports send with MSG_NOSIGNAL (and a loop ignores SIGPIPE anyway).
        OpenSSLErrorQueue.clear()
        guard copenssl_SSL_CTX_set_min_proto_version(ctx, minimumVersion.openSSLValue) == 1 else {
            throw TLSError(kind: .configuration, message: OpenSSLErrorQueue.drainMessage(or: "cannot require \(minimumVersion)"))
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
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
