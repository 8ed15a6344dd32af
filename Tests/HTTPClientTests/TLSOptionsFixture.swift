import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Certificates for the TLS option tests, made for this run in one temporary directory: a
/// server certificate (localhost, 127.0.0.1), client A's (clientAuth, its key encrypted with
/// `passphrase`), and client B's from another issuer (its key in the clear). Each is
/// self-signed with CA:TRUE, so its own file is the CA that trusts it.
struct TLSOptionsFixture {
    static let passphrase = "correct horse"
    let directory: String
    let server: (certificateFile: String, privateKeyFile: String)
    let clientA: (certificateFile: String, privateKeyFile: String)
    let clientB: (certificateFile: String, privateKeyFile: String)

    init() throws {
        directory = try LocalDaemon.makeDirectory("tls-options")
        server = try TestCertificate.generate(inDirectory: directory + "/server")
        clientA = try TestCertificate.generate(
            inDirectory: directory + "/client-a", dnsNames: ["client-a"], ipAddresses: [], extendedKeyUsage: "clientAuth",
            keyPassphrase: Self.passphrase)
        clientB = try TestCertificate.generate(
            inDirectory: directory + "/client-b", dnsNames: ["client-b"], ipAddresses: [], extendedKeyUsage: "clientAuth")
    }

    var identityA: TLSClientCertificate {
        TLSClientCertificate(
            certificateFile: clientA.certificateFile, privateKeyFile: clientA.privateKeyFile, privateKeyPassphrase: Self.passphrase)
    }

    var identityB: TLSClientCertificate {
        TLSClientCertificate(certificateFile: clientB.certificateFile, privateKeyFile: clientB.privateKeyFile)
    }

    /// The test server over TLS with this server certificate and `context`'s other settings.
    func startServer(
        clientCAFile: String? = nil, maximumVersion: TLSVersion? = nil, applicationProtocols: [String] = []
    ) throws -> TestHTTPServer {
        let context = try TLSContext.server(
            certificateFile: server.certificateFile, privateKeyFile: server.privateKeyFile, clientCAFile: clientCAFile,
            maximumVersion: maximumVersion, applicationProtocols: applicationProtocols)
        return try TestHTTPServer.start(.init(tls: context))
    }

    /// The client configuration that trusts the server certificate only.
    func trusting(_ change: (inout TLSConfiguration) -> Void = { _ in }) -> HTTPClientConfiguration {
        var tls = TLSConfiguration(caFile: server.certificateFile, useSystemCAStore: false)
        change(&tls)
        return HTTPClientConfiguration(tls: tls)
    }

    /// curl's pin for the certificate in `file` ("sha256//..."), computed by the openssl CLI, so
    /// the client's own digest is checked against an independent one.
    func pin(ofCertificate file: String) throws -> String {
        let output = directory + "/pin-\(UInt32.random(in: 0...UInt32.max))"
        let status = LocalDaemon.spawnAndWait([
            "/bin/sh", "-c",
            "openssl x509 -in '\(file)' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64 > '\(output)'",
        ])
        guard status == 0, let text = LocalDaemon.read(output) else { throw TestFailure("openssl could not hash \(file)") }
        let digest = text.filter { !$0.isWhitespace }
        guard digest.count == 44 else { throw TestFailure("unexpected digest \(digest)") }
        return "sha256//" + digest
    }

    func remove() { _ = LocalDaemon.spawnAndWait(["/bin/rm", "-rf", directory]) }
}

/// The TLS error inside a client error, if that is what it is.
func tlsError(_ error: (any Error)?) -> TLSError? {
    if case .tls(let tls)? = error as? HTTPClientError { return tls }
    return error as? TLSError
}
