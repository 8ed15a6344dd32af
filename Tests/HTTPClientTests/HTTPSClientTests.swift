import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// HTTPS through both engines against the test server with a certificate made for this run.
@Suite("HTTPS on both engines")
struct HTTPSClientTests {
    @Test(arguments: HTTPEngine.allCases)
    func trustedCertificateCarriesBodiesOverKeepAlive(engine: HTTPEngine) throws {
        let (server, certificate) = try startSecureTestServer()
        defer { server.stop() }
        let port = server.port
        #expect(server.baseURL.hasPrefix("https://"))
        try onLoop {
            let client = Client(configuration: HTTPClientConfiguration(tls: TLSConfiguration(caFile: certificate)))
            for host in ["127.0.0.1", "localhost", "127.0.0.1"] {
                let response = try await client.get(
                    TestServerURL("https://\(host):\(port)").gen(2_000_000).seed(8).chunked(host == "localhost").string, engine: engine)
                #expect(response.status == 200)
                #expect(try await readGenerated(response.body, seed: 8) == 2_000_000)
            }
        }
        #expect(server.stats.connectionsAccepted == 2, "one connection per origin, reused")
    }

    /// An https page that redirects to an http one leaves TLS behind: refused unless the
    /// configuration allows it, and the error names the way to allow it.
    @Test(arguments: HTTPEngine.allCases)
    func httpsToHTTPRedirectsAreRefusedUnlessAllowed(engine: HTTPEngine) throws {
        let (secure, certificate) = try startSecureTestServer()
        defer { secure.stop() }
        let plain = try TestHTTPServer.start()
        defer { plain.stop() }
        let from = "https://127.0.0.1:\(secure.port)/redirect/302?to=http%3A%2F%2F127.0.0.1%3A\(plain.port)%2Fecho"
        try onLoop {
            let tls = TLSConfiguration(caFile: certificate)
            let refused = await errorThrown {
                _ = try await Client(configuration: HTTPClientConfiguration(tls: tls)).get(from, engine: engine)
            }
            let expected = HTTPClientError.insecureRedirect(from: try HTTPURL(from), to: try HTTPURL("http://127.0.0.1:\(plain.port)/echo"))
            #expect(refused as? HTTPClientError == expected)
            #expect(expected.description.contains("--allow-insecure-redirect"))
            #expect(expected.description.contains("allowInsecureRedirects"))

            let allowing = Client(configuration: HTTPClientConfiguration(tls: tls, allowInsecureRedirects: true))
            let response = try await allowing.get(from, engine: engine)
            #expect(response.status == 200)
            #expect(response.url.description == "http://127.0.0.1:\(plain.port)/echo")
            _ = try await response.body.collect()
        }
        #expect(plain.stats.connectionsAccepted == 1, "only the allowed request reached the http server")
    }

    @Test(arguments: HTTPEngine.allCases)
    func unknownIssuerIsRefusedByDefault(engine: HTTPEngine) throws {
        let (server, _) = try startSecureTestServer()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/10"
        let error = try onLoop { await errorThrown { _ = try await Client().get(url, engine: engine) } }
        guard case .tls(let tlsError)? = error as? HTTPClientError else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
        #expect(tlsError.kind == .certificateVerificationFailed)
        #expect((error as? HTTPClientError)?.isTransient == false)
    }

    @Test(arguments: HTTPEngine.allCases)
    func verificationCanBeTurnedOff(engine: HTTPEngine) throws {
        let (server, _) = try startSecureTestServer()
        defer { server.stop() }
        let url = "\(server.baseURL)/gen/1000?seed=1"
        let bytes = try onLoop {
            let insecure = Client(configuration: HTTPClientConfiguration(tls: TLSConfiguration(verifyCertificates: false)))
            return try await insecure.get(url, engine: engine).body.collect()
        }
        #expect(isGenerated(bytes, seed: 1) && bytes.count == 1000)
    }

    @Test(arguments: HTTPEngine.allCases)
    func aNameTheCertificateDoesNotCoverIsAMismatch(engine: HTTPEngine) throws {
        let (server, certificate) = try startSecureTestServer(host: "127.0.0.2")  // also loopback on Linux; not in the certificate
        defer { server.stop() }
        let url = "https://127.0.0.2:\(server.port)/gen/10"
        let error = try onLoop {
            let client = Client(configuration: HTTPClientConfiguration(tls: TLSConfiguration(caFile: certificate)))
            return await errorThrown { _ = try await client.get(url, engine: engine) }
        }
        guard case .tls(let tlsError)? = error as? HTTPClientError else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
        #expect(tlsError.kind == .hostnameMismatch)
    }

    @Test(arguments: HTTPEngine.allCases)
    func aMissingCAFileIsAConfigurationError(engine: HTTPEngine) throws {
        let error = try onLoop {
            let client = Client(configuration: HTTPClientConfiguration(tls: TLSConfiguration(caFile: "/nonexistent/ca.pem")))
            return await errorThrown { _ = try await client.get("https://127.0.0.1:9/", engine: engine) }
        }
        guard case .tls(let tlsError)? = error as? HTTPClientError else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
        #expect(tlsError.kind == .configuration)
        #expect(tlsError.description.contains("/nonexistent/ca.pem"))
    }
}
