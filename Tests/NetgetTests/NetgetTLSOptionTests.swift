import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// netget's TLS flags as curl spells them (--cert, --key, --pass, --tlsv1.3, --pinnedpubkey)
/// against the test server set up to check each, with curl's exit statuses.
@Suite("netget TLS options")
struct NetgetTLSOptionTests {
    @Test func clientCertificatesVersionFloorAndPinsBehaveAsCurls() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let server = try TestCertificate.generate(inDirectory: directory + "/server")
        let client = try TestCertificate.generate(
            inDirectory: directory + "/client", dnsNames: ["netget"], ipAddresses: [], extendedKeyUsage: "clientAuth", keyPassphrase: "pw")
        let mutual = try TestHTTPServer.start(
            .init(
                tls: TLSContext.server(
                    certificateFile: server.certificateFile, privateKeyFile: server.privateKeyFile, clientCAFile: client.certificateFile)))
        defer { mutual.stop() }
        let capped = try TestHTTPServer.start(
            .init(
                tls: TLSContext.server(
                    certificateFile: server.certificateFile, privateKeyFile: server.privateKeyFile, maximumVersion: .tls12)))
        defer { capped.stop() }
        let mutualURL = "https://localhost:\(mutual.port)/gen/1000?seed=4"
        let cappedURL = "https://localhost:\(capped.port)/gen/1000?seed=4"

        let withCertificate = try await netget(
            [
                "--cacert", server.certificateFile, "--cert", client.certificateFile, "--key", client.privateKeyFile, "--pass", "pw", "-o",
                "a.bin", mutualURL,
            ],
            in: directory)
        #expect(withCertificate.exitCode == 0, "\(withCertificate.stderr)")
        #expect(isGeneratedFile(directory + "/a.bin", count: 1000, seed: 4))
        let without = try await netget(["--cacert", server.certificateFile, "-o", "b.bin", mutualURL], in: directory)
        #expect(without.exitCode == 35, "\(without.stderr)")

        let tls13 = try await netget(["--cacert", server.certificateFile, "--tlsv1.3", "-o", "c.bin", cappedURL], in: directory)
        #expect(tls13.exitCode == 35)
        #expect(tls13.stderr.contains("requires TLS 1.3 or later"), "\(tls13.stderr)")
        let tls12 = try await netget(["--cacert", server.certificateFile, "--tlsv1.2", "-o", "d.bin", cappedURL], in: directory)
        #expect(tls12.exitCode == 0, "\(tls12.stderr)")

        let pin = try spkiPin(of: server.certificateFile, scratch: directory + "/pin")
        let pinned = try await netget(
            ["-k", "--pinnedpubkey", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;\(pin)", "-o", "e.bin", cappedURL], in: directory
        )
        #expect(pinned.exitCode == 0, "pin only, with -k: \(pinned.stderr)")
        let wrongPin = try await netget(
            [
                "--cacert", server.certificateFile, "--pinnedpubkey", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "-o", "f.bin",
                cappedURL,
            ],
            in: directory)
        #expect(wrongPin.exitCode == 90, "\(wrongPin.stderr)")
        let badPin = try await netget(["--pinnedpubkey", "md5//x", cappedURL], in: directory)
        #expect(badPin.exitCode == 2)
        let keyAlone = try await netget(["--key", client.privateKeyFile, cappedURL], in: directory)
        #expect(keyAlone.exitCode == 2)
    }
}

/// curl's pin of the certificate in `file`, by the openssl CLI (independent of netget's digest).
private func spkiPin(of file: String, scratch: String) throws -> String {
    let status = LocalDaemon.spawnAndWait([
        "/bin/sh", "-c",
        "openssl x509 -in '\(file)' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64 > '\(scratch)'",
    ])
    guard status == 0, let text = LocalDaemon.read(scratch) else { throw TestFailure("openssl could not hash \(file)") }
    return "sha256//" + text.filter { !$0.isWhitespace }
}

/// Whether the file holds `count` bytes of the test server's generated content for `seed`.
private func isGeneratedFile(_ path: String, count: Int, seed: UInt64) -> Bool {
    guard let text = try? readFile(path), text.count == count else { return false }
    var expected = [UInt8](repeating: 0, count: count)
    expected.withUnsafeMutableBytes { GeneratedContent.fill($0, seed: seed, offset: 0) }
    return text == expected
}
