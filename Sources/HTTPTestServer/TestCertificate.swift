import COpenSSL
import NetTLS

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway self-signed certificate for tests and demos, made with the OpenSSL API at run
/// time (no `openssl` command, no certificate checked into the repository that could expire).
///
/// It is EC P-256, signed with SHA-256, valid for one day, lists the given DNS names and IP
/// addresses as subjectAltName, and is marked `CA:TRUE` with `keyCertSign` so the certificate
/// file can also serve as the client's CA file (`TLSConfiguration.caFile`).
public enum TestCertificate {
    /// Writes `cert.pem` and `key.pem` (mode 0600) into `directory` (created if missing).
    /// - Parameters:
    ///   - directory: where the two files go.
    ///   - dnsNames: the subjectAltName DNS entries.
    ///   - ipAddresses: the subjectAltName IP entries.
    ///   - extendedKeyUsage: OpenSSL's spelling ("serverAuth", "clientAuth" for a client
    ///     certificate, "serverAuth,clientAuth").
    ///   - keyPassphrase: when set, the key is written encrypted (AES-256-CBC) with it.
    /// - Returns: the two paths, for `TLSContext.server(certificateFile:privateKeyFile:)`.
    /// - Throws: `TLSError` of kind `.configuration` when a name or address is not accepted or
    ///   a file cannot be written.
    /// Any thread.
    public static func generate(
        inDirectory directory: String, dnsNames: [String] = ["localhost"], ipAddresses: [String] = ["127.0.0.1", "::1"],
        extendedKeyUsage: String = "serverAuth", keyPassphrase: String? = nil
    ) throws -> (certificateFile: String, privateKeyFile: String) {
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw failure("cannot create directory '\(directory)': \(String(cString: strerror(errno)))")
        }
        ERR_clear_error()
        guard let key = copenssl_EVP_EC_gen("P-256") else { throw failure("cannot generate a P-256 key") }
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw failure("X509_new failed") }
        defer { X509_free(certificate) }

        try check(X509_set_version(certificate, 2), "set version")  // 2 means X.509 v3
        // A random serial: a client that cached an earlier run's certificate must not mix them up.
        try check(ASN1_INTEGER_set(X509_get_serialNumber(certificate), Int.random(in: 1...Int(Int32.max))), "set serial")
        // Valid from a minute ago, so a peer whose clock is slightly behind accepts it.
        guard X509_gmtime_adj(X509_getm_notBefore(certificate), -60) != nil,
            X509_gmtime_adj(X509_getm_notAfter(certificate), 24 * 60 * 60) != nil
        else { throw failure("cannot set the validity period") }
        try check(X509_set_pubkey(certificate, key), "set public key")

        guard let name = X509_get_subject_name(certificate) else { throw failure("no subject name") }
        let commonName = dnsNames.first ?? ipAddresses.first ?? "StacklessNet test"
        let commonNameBytes = Array(commonName.utf8)
        try check(
            X509_NAME_add_entry_by_txt(name, "CN", copenssl_MBSTRING_ASC(), commonNameBytes, Int32(commonNameBytes.count), -1, 0),
            "set common name")
        try check(X509_set_issuer_name(certificate, name), "set issuer")  // self-signed: issuer is subject

        for address in ipAddresses where !isIPLiteral(address) {
            throw failure("'\(address)' is not an IPv4 or IPv6 address")
        }
        let alternativeNames = (dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }).joined(separator: ",")
        guard !alternativeNames.isEmpty else { throw failure("a certificate needs at least one name or address") }
        try addExtension(NID_basic_constraints, "critical,CA:TRUE", to: certificate)
        try addExtension(NID_key_usage, "critical,digitalSignature,keyCertSign", to: certificate)
        try addExtension(NID_ext_key_usage, extendedKeyUsage, to: certificate)
        try addExtension(NID_subject_key_identifier, "hash", to: certificate)
        try addExtension(NID_subject_alt_name, alternativeNames, to: certificate)

        guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw failure("cannot sign the certificate") }

        let certificateFile = directory + "/cert.pem"
        let privateKeyFile = directory + "/key.pem"
        try writePEM(to: certificateFile) { PEM_write_bio_X509($0, certificate) }
        if let keyPassphrase {
            let secret = Array(keyPassphrase.utf8)
            try writePEM(to: privateKeyFile) { PEM_write_bio_PrivateKey($0, key, EVP_aes_256_cbc(), secret, Int32(secret.count), nil, nil) }
        } else {
            try writePEM(to: privateKeyFile) { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        }
        chmod(privateKeyFile, 0o600)
        ERR_clear_error()
        return (certificateFile, privateKeyFile)
    }

    private static func addExtension(_ nid: Int32, _ value: String, to certificate: OpaquePointer) throws {
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, certificate, certificate, nil, nil, 0)
        guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
            throw failure("bad extension value '\(value)'")
        }
        defer { X509_EXTENSION_free(ext) }
        try check(X509_add_ext(certificate, ext, -1), "add extension '\(value)'")
    }

    private static func writePEM(to path: String, _ body: (OpaquePointer) -> Int32) throws {
        guard let bio = BIO_new_file(path, "w") else { throw failure("cannot write '\(path)'") }
        defer { BIO_free_all(bio) }
        guard body(bio) == 1, BIO_ctrl(bio, BIO_CTRL_FLUSH, 0, nil) == 1 else { throw failure("cannot write '\(path)'") }
    }

    private static func isIPLiteral(_ text: String) -> Bool {
        var storage = in6_addr()
        return inet_pton(AF_INET, text, &storage) == 1 || inet_pton(AF_INET6, text, &storage) == 1
    }

    private static func check(_ result: Int32, _ step: String) throws {
        if result != 1 { throw failure("cannot \(step)") }
    }

    /// The error for `step`, with OpenSSL's reasons, leaving this thread's error queue empty.
    private static func failure(_ step: String) -> TLSError {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let reason = ERR_reason_error_string(code) { reasons.append(String(cString: reason)) }
        }
        let detail = reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")
        return TLSError(kind: .configuration, message: "test certificate: " + step + detail)
    }
}
