import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The client's TLS options on both engines, each against the test server set up to check it:
/// client certificates (the server requires one from a CA), the version floor (the server is
/// capped at TLS 1.2), public key pins, the ALPN offer (the server records what it chose) and
/// the verification hook.
@Suite("TLS options on both engines")
struct TLSOptionsTests {
    @Test(arguments: HTTPEngine.allCases)
    func aServerThatRequiresAClientCertificateRefusesNoneAndAnotherCAsAndAcceptsItsOwn(engine: HTTPEngine) throws {
        let pki = try TLSOptionsFixture()
        defer { pki.remove() }
        let server = try pki.startServer(clientCAFile: pki.clientA.certificateFile)
        defer { server.stop() }
        let url = "https://localhost:\(server.port)/gen/5000?seed=3"
        try onLoop {
            let withoutCertificate = await errorThrown { _ = try await Client(configuration: pki.trusting()).get(url, engine: engine) }
            #expect(withoutCertificate != nil, "refused without a client certificate")
            let otherCA = await errorThrown {
                _ = try await Client(configuration: pki.trusting { $0.clientCertificate = pki.identityB }).get(url, engine: engine)
            }
            #expect(otherCA != nil, "refused with a certificate from another CA")
            let accepted = try await Client(configuration: pki.trusting { $0.clientCertificate = pki.identityA }).get(url, engine: engine)
            #expect(accepted.status == 200)
            #expect(try await readGenerated(accepted.body, seed: 3) == 5000)
        }
        #expect(server.failedTLSHandshakes == 2)
        #expect(server.stats.requestsServed == 1, "only the client with the trusted certificate got an answer")
        let handshakes = server.tlsHandshakes
        #expect(handshakes.count == 1)
        let presented = try #require(handshakes.first?.clientCertificates.first)
        #expect(presented == (try derOfFirstCertificate(in: pki.clientA.certificateFile)), "the server saw client A's certificate")
    }

    @Test func aClientKeyThatDoesNotMatchItsCertificateOrCannotBeDecryptedIsAClearConfigurationError() throws {
        let pki = try TLSOptionsFixture()
        defer { pki.remove() }
        func contextError(_ identity: TLSClientCertificate) -> TLSError? {
            do {
                _ = try TLSContext.client(TLSConfiguration(clientCertificate: identity))
                return nil
            } catch { return error as? TLSError }
        }
        let mismatched = contextError(
            TLSClientCertificate(certificateFile: pki.clientB.certificateFile, privateKeyFile: pki.server.privateKeyFile))
        #expect(mismatched?.kind == .configuration)
        #expect(
            mismatched?.message.contains("does not match certificate '\(pki.clientB.certificateFile)'") == true,
            "\(String(describing: mismatched))")
        let noPassphrase = contextError(
            TLSClientCertificate(certificateFile: pki.clientA.certificateFile, privateKeyFile: pki.clientA.privateKeyFile))
        #expect(noPassphrase?.message.contains("encrypted and no passphrase") == true, "\(String(describing: noPassphrase))")
        let wrongPassphrase = contextError(
            TLSClientCertificate(
                certificateFile: pki.clientA.certificateFile, privateKeyFile: pki.clientA.privateKeyFile, privateKeyPassphrase: "wrong"))
        #expect(wrongPassphrase?.kind == .configuration)
        #expect(wrongPassphrase?.message.contains(pki.clientA.privateKeyFile) == true)
        let missing = contextError(
            TLSClientCertificate(certificateFile: pki.directory + "/none.pem", privateKeyFile: pki.clientB.privateKeyFile))
        #expect(missing?.message.contains("cannot read client certificate file") == true)
        #expect(contextError(pki.identityA) == nil, "the right passphrase loads the key")
    }

    @Test(arguments: HTTPEngine.allCases)
    func aMinimumOfTLS13FailsClearlyAgainstAServerCappedAt12AndAMinimumOf12Works(engine: HTTPEngine) throws {
        let pki = try TLSOptionsFixture()
        defer { pki.remove() }
        let server = try pki.startServer(maximumVersion: .tls12)
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)/gen/100"
        try onLoop {
            let refused = await errorThrown {
                _ = try await Client(configuration: pki.trusting { $0.minimumVersion = .tls13 }).get(url, engine: engine)
            }
            let error = try #require(tlsError(refused), "\(String(describing: refused))")
            #expect(error.kind == .handshakeFailed)
            #expect(error.message.contains("requires TLS 1.3 or later"), "\(error)")
            let response = try await Client(configuration: pki.trusting { $0.minimumVersion = .tls12 }).get(url, engine: engine)
            #expect(response.status == 200)
            _ = try await response.body.collect()
        }
        #expect(server.tlsHandshakes.map(\.protocolVersion) == ["TLSv1.2"])
    }

    @Test(arguments: HTTPEngine.allCases)
    func theRightPinPassesAWrongOneFailsDespiteAValidChainAndPinOnlyAcceptsASelfSignedServer(engine: HTTPEngine) throws {
        let pki = try TLSOptionsFixture()
        defer { pki.remove() }
        let server = try pki.startServer()
        defer { server.stop() }
        let right = try pki.pin(ofCertificate: pki.server.certificateFile)
        let wrong = try pki.pin(ofCertificate: pki.clientB.certificateFile)
        let url = "https://localhost:\(server.port)/gen/100"
        try onLoop {
            // Pinned and chain-checked; one right pin among wrong ones is enough (curl's ";").
            let pinned = try await Client(configuration: pki.trusting { $0.pinnedPublicKeys = ["\(wrong);\(right)"] }).get(
                url, engine: engine)
            #expect(pinned.status == 200)
            _ = try await pinned.body.collect()

            let wrongPin = await errorThrown {
                _ = try await Client(configuration: pki.trusting { $0.pinnedPublicKeys = [wrong] }).get(url, engine: engine)
            }
            #expect(tlsError(wrongPin)?.kind == .publicKeyPinMismatch, "\(String(describing: wrongPin))")
            #expect(tlsError(wrongPin)?.message.contains(String(right.dropFirst(8))) == true, "names the server's key")

            // Pin only: no CA trusts the self-signed server, the pin alone admits it.
            let pinOnly = HTTPClientConfiguration(
                tls: TLSConfiguration(verifyCertificates: false, useSystemCAStore: false, pinnedPublicKeys: [right]))
            let response = try await Client(configuration: pinOnly).get(url, engine: engine)
            #expect(response.status == 200)
            _ = try await response.body.collect()
            let pinOnlyWrong = HTTPClientConfiguration(tls: TLSConfiguration(verifyCertificates: false, pinnedPublicKeys: [wrong]))
            let refused = await errorThrown { _ = try await Client(configuration: pinOnlyWrong).get(url, engine: engine) }
            #expect(tlsError(refused)?.kind == .publicKeyPinMismatch)
            // Without the pin the same self-signed server fails the chain check.
            let chainOnly = await errorThrown {
                _ = try await Client(configuration: HTTPClientConfiguration(tls: TLSConfiguration(useSystemCAStore: true))).get(
                    url, engine: engine)
            }
            #expect(tlsError(chainOnly)?.kind == .certificateVerificationFailed)
        }
        #expect(server.stats.requestsServed == 2)
    }

    @Test func malformedPinsAreConfigurationErrors() {
        for bad in [
            "sha256//short=", "md5//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            #expect(throws: TLSError.self, "\(bad)") { _ = try TLSContext.client(TLSConfiguration(pinnedPublicKeys: [bad])) }
        }
    }

    @Test(arguments: HTTPEngine.allCases)
    func theClientOffersHTTP11InALPNAndTheServerChoosesIt(engine: HTTPEngine) throws {
        let pki = try TLSOptionsFixture()
        defer { pki.remove() }
        let server = try pki.startServer(applicationProtocols: ["h2", "http/1.1"])
        defer { server.stop() }
        try onLoop {
            let response = try await Client(configuration: pki.trusting()).get("https://localhost:\(server.port)/gen/10", engine: engine)
            #expect(response.status == 200)
            _ = try await response.body.collect()
        }
        // The server prefers h2; the client offered only http/1.1, so that is what was chosen.
        #expect(server.tlsHandshakes.map(\.applicationProtocol) == ["http/1.1"])
    }

    @Test(arguments: HTTPEngine.allCases)
    func theVerificationHookSeesTheChainAndNameAndItsVerdictHolds(engine: HTTPEngine) throws {
        let pki = try TLSOptionsFixture()
        defer { pki.remove() }
        let server = try pki.startServer()
        defer { server.stop() }
        let serverDER = try derOfFirstCertificate(in: pki.server.certificateFile)
        let seen = Box<[(certificates: [[UInt8]], name: String, onLoop: Bool)]>([])
        let lock = PThreadMutex()
        func hook(_ verdict: TLSVerificationVerdict) -> TLSVerificationHook {
            TLSVerificationHook { certificates, name in
                lock.withLock { seen.value.append((certificates, name, Loop.current != nil)) }
                return verdict
            }
        }
        let url = "https://localhost:\(server.port)/gen/10"
        try onLoop {
            let accepting = try await Client(configuration: pki.trusting { $0.verificationHook = hook(.accept) }).get(url, engine: engine)
            #expect(accepting.status == 200)
            _ = try await accepting.body.collect()
            let rejected = await errorThrown {
                _ = try await Client(configuration: pki.trusting { $0.verificationHook = hook(.reject(reason: "not on the list")) }).get(
                    url, engine: engine)
            }
            #expect(tlsError(rejected)?.kind == .rejectedByVerificationHook)
            #expect(tlsError(rejected)?.message == "not on the list")
        }
        let calls = lock.withLock { seen.value }
        #expect(calls.count == 2)
        for call in calls {
            #expect(call.certificates.first == serverDER, "the leaf, as DER")
            #expect(call.name == "localhost")
            #expect(call.onLoop == (engine == .loop), "on the loop's thread for .loop, a worker's for .workers")
        }
        #expect(server.stats.requestsServed == 1)
    }
}

/// The DER of the first certificate in a PEM file, decoded here (base64 between the markers).
func derOfFirstCertificate(in file: String) throws -> [UInt8] {
    guard let text = LocalDaemon.read(file), let begin = text.firstRange(of: "-----BEGIN CERTIFICATE-----"),
        let end = text.firstRange(of: "-----END CERTIFICATE-----")
    else { throw TestFailure("no certificate in \(file)") }
    return try base64Decoded(text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace })
}

private func base64Decoded(_ text: String) throws -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var values: [UInt8: UInt32] = [:]
    for (index, byte) in alphabet.enumerated() { values[byte] = UInt32(index) }
    var bytes: [UInt8] = []
    var group: UInt32 = 0
    var bits = 0
    for byte in text.utf8 where byte != UInt8(ascii: "=") {
        guard let value = values[byte] else { throw TestFailure("bad base64") }
        group = group << 6 | value
        bits += 6
        if bits >= 8 {
            bits -= 8
            bytes.append(UInt8(truncatingIfNeeded: group >> UInt32(bits)))
        }
    }
    return bytes
}
