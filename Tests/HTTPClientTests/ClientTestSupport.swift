import HTTPClient
import HTTPTestServer
import NetCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `body` as a tasklet on a fresh loop (with `limits`) driven by this thread; returns its
/// result: `runTasklet` with the defaults these tests have always had (the tasklet is named
/// "client-test"; watchers left running are not checked).
func onLoop<T: Sendable>(limits: LoopLimits = .unlimited, _ body: sending @escaping () async throws -> T) throws -> T {
    try runTasklet(limits: limits, tasklet: "client-test", expectNoWatchers: false, body)
}

/// The whole body through `read(into:)`, checked against the generated content as it arrives.
/// - Returns: the byte count. - Throws: a failure naming the first wrong offset.
func readGenerated(_ body: HTTPBody, seed: UInt64, from start: UInt64 = 0) async throws -> UInt64 {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 100_000, alignment: 16)  // odd size on purpose
    defer { buffer.deallocate() }
    var offset = start
    while true {
        let n = try await body.read(into: buffer)
        if n == 0 { return offset - start }
        if let bad = GeneratedContent.firstMismatch(in: UnsafeRawBufferPointer(rebasing: buffer[0..<n]), seed: seed, offset: offset) {
            throw TestFailure("wrong byte at offset \(offset + UInt64(bad))")
        }
        offset += UInt64(n)
    }
}

/// Checks bytes against the generated content. - Returns: whether all are right.
func isGenerated(_ bytes: [UInt8], seed: UInt64, from start: UInt64 = 0) -> Bool {
    bytes.withUnsafeBytes { GeneratedContent.firstMismatch(in: $0, seed: seed, offset: start) == nil }
}

/// The error `body` throws, or nil if it succeeded.
func errorThrown(_ body: () async throws -> Void) async -> (any Error)? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}

/// Stores every byte at its offset in memory and counts writes: the downloader's output, checked.
final class MemorySink: DownloadSink {
    var bytes: [UInt8]
    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    func write(_ chunk: UnsafeRawBufferPointer, at offset: UInt64) async throws {
        // both non-empty: chunks are never empty
        bytes.withUnsafeMutableBytes { ($0.baseAddress! + Int(offset)).copyMemory(from: chunk.baseAddress!, byteCount: chunk.count) }
    }
    func discardAll() async throws { bytes = [UInt8](repeating: 0, count: bytes.count) }
}

/// A certificate for localhost / 127.0.0.1 / ::1 (in a new directory under /tmp) and an HTTPS
/// test server on `host` using it. - Returns: the server and the certificate file to trust.
func startSecureTestServer(host: String = "127.0.0.1") throws -> (TestHTTPServer, certificateFile: String) {
    var template = Array("/tmp/https-client-tests-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    let (certificate, key) = try TestCertificate.generate(inDirectory: String(cString: made))
    let server = try TestHTTPServer.start(.init(host: host, tls: TLSContext.server(certificateFile: certificate, privateKeyFile: key)))
    return (server, certificate)
}
