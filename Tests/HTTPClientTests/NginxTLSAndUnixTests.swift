import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The TLS options and Unix sockets against nginx, an independent implementation: mutual TLS
/// with `ssl_verify_client on`, a server with `ssl_protocols TLSv1.2` (which also reports the
/// ALPN it chose in `$ssl_alpn_protocol`), and `listen unix:` sockets. Both engines.
@Suite("nginx: client certificates, TLS 1.2 only, ALPN, Unix sockets", .serialized, .enabled(if: NginxServer.isInstalled))
struct NginxTLSAndUnixTests {
    static func start(_ pki: TLSOptionsFixture) throws -> NginxServer {
        let nginx = try NginxServer(
            template: "nginx-tls-unix.conf.template", extraPorts: 1,
            substitutions: [
                "@SERVERCERT@": pki.server.certificateFile, "@SERVERKEY@": pki.server.privateKeyFile,
                "@CLIENTCA@": pki.clientA.certificateFile,
            ])
        for socket in ["a", "b"] where !LocalDaemon.waitUntilListening(unixPath: "\(nginx.directory)/run/\(socket).sock") {
            throw TestFailure("nginx is not listening on \(socket).sock")
        }
        guard LocalDaemon.waitUntilListening(port: nginx.extraPorts[0]) else {
            throw TestFailure("nginx is not listening on its second port")
        }
        return nginx
    }

    @Test(arguments: HTTPEngine.allCases)
    func sslVerifyClientRefusesNoCertificateAndAnotherCAsAndAcceptsTheTrustedOne(engine: HTTPEngine) throws {
        let pki = try TLSOptionsFixture()
        defer { pki.remove() }
        let nginx = try Self.start(pki)
        defer { nginx.stop() }
        let url = "https://localhost:\(nginx.port)/"
        try onLoop {
            // nginx finishes the handshake and answers 400 when the certificate is missing or bad.
            let none = try await Client(configuration: pki.trusting()).get(url, engine: engine)
            #expect(none.status == 400)
            #expect(String(decoding: try await none.body.collect(), as: UTF8.self).contains("No required SSL certificate was sent"))
            let other = try await Client(configuration: pki.trusting { $0.clientCertificate = pki.identityB }).get(url, engine: engine)
            #expect(other.status == 400)
            #expect(String(decoding: try await other.body.collect(), as: UTF8.self).contains("The SSL certificate error"))
            let trusted = try await Client(configuration: pki.trusting { $0.clientCertificate = pki.identityA }).get(url, engine: engine)
            #expect(trusted.status == 200)
            #expect(trusted.headers.first("X-Client-Verify") == "SUCCESS")
            #expect(String(decoding: try await trusted.body.collect(), as: UTF8.self) == "client CN=client-a\n")
        }
    }

    @Test(arguments: HTTPEngine.allCases)
    func aTLS12OnlyServerFailsAMinimumOf13ClearlyServesAMinimumOf12AndSeesHTTP11InALPN(engine: HTTPEngine) throws {
        let pki = try TLSOptionsFixture()
        defer { pki.remove() }
        let nginx = try Self.start(pki)
        defer { nginx.stop() }
        let url = "https://127.0.0.1:\(nginx.extraPorts[0])/"
        try onLoop {
            let refused = await errorThrown {
                _ = try await Client(configuration: pki.trusting { $0.minimumVersion = .tls13 }).get(url, engine: engine)
            }
            let error = try #require(tlsError(refused), "\(String(describing: refused))")
            #expect(error.kind == .handshakeFailed)
            #expect(error.message.contains("requires TLS 1.3 or later"), "\(error)")
            let response = try await Client(configuration: pki.trusting()).get(url, engine: engine)
            #expect(response.status == 200)
            #expect(response.headers.first("X-TLS") == "TLSv1.2")
            #expect(response.headers.first("X-ALPN") == "http/1.1")
            _ = try await response.body.collect()
        }
    }

    @Test(arguments: HTTPEngine.allCases)
    func httpOverUnixSocketsCarriesBodiesAndKeepsEachSocketItsOwnPool(engine: HTTPEngine) throws {
        let pki = try TLSOptionsFixture()
        defer { pki.remove() }
        let nginx = try Self.start(pki)
        defer { nginx.stop() }
        let a = percentEncoded("\(nginx.directory)/run/a.sock")
        let b = percentEncoded("\(nginx.directory)/run/b.sock")
        let missing = percentEncoded(nginx.directory + "/run/none.sock")
        #expect(a.hasPrefix("%2F"))
        try onLoop {
            let client = Client()
            let data = try await client.get("http+unix://\(a)/data.bin", engine: engine)
            #expect(data.status == 200)
            #expect(data.headers.first("X-Host") == "localhost", "Host: localhost, which nginx accepts")
            #expect(try await readGenerated(data.body, seed: NginxServer.seed) == UInt64(NginxServer.size))
            // The same client, alternating sockets: a pooled connection never crosses over.
            for _ in 0..<3 {
                for (socket, name) in [(a, "a"), (b, "b")] {
                    let which = try await client.get("http+unix://\(socket)/which", engine: engine)
                    #expect(String(decoding: try await which.body.collect(), as: UTF8.self) == "\(name)\n")
                }
            }
            if engine == .loop { #expect(client.stats.connectionsOpened == 2, "one kept-alive connection per socket") }
            let refused = await errorThrown { _ = try await client.get("http+unix://\(missing)/", engine: engine) }
            #expect(refused != nil, "no such socket")
        }
    }
}
