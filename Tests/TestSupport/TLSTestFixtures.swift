import HTTPTestServer
import NetCore
import NetTLS

#if canImport(Glibc)
    import Glibc
#endif

// TLS fixtures shared by NetTLSTests and HTTPClientTests: certificates, patterns, and whole
// reads and writes over any byte stream.

/// The longest any single wait in the TLS tests may take before the test fails.
public let tlsWait: Duration = .seconds(10)

/// A fresh self-signed certificate (for localhost, 127.0.0.1 and ::1) in its own temporary
/// directory. Call `remove()` when done.
public struct TLSTestPKI: Sendable {
    public let directory: String
    public let certificateFile: String
    public let privateKeyFile: String

    /// - Throws: `TestFailure` when no directory can be made; `TLSError` from the generator.
    public init() throws {
        var template = Array("/tmp/tls-tests-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        (certificateFile, privateKeyFile) = try TestCertificate.generate(inDirectory: directory)
    }

    public func serverContext() throws -> TLSContext {
        try TLSContext.server(certificateFile: certificateFile, privateKeyFile: privateKeyFile)
    }

    /// Trusts only this certificate, so the tests do not depend on the machine's CA store.
    public func clientContext() throws -> TLSContext {
        try TLSContext.client(TLSConfiguration(caFile: certificateFile, useSystemCAStore: false))
    }

    public func remove() {
        unlink(certificateFile)
        unlink(privateKeyFile)
        rmdir(directory)
    }
}

/// Deterministic bytes: byte i is a function of i and the seed.
public func tlsPattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31) &+ ($0 >> 8) &+ seed) }
}

/// Echoes until the peer ends the stream.
nonisolated(nonsending) public func echoUntilEndOfStream(_ stream: some AsyncByteStream) async throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32_768, alignment: 1)
    defer { buffer.deallocate() }
    while true {
        let n = try await stream.read(into: buffer, timeout: tlsWait)
        if n == 0 { return }
        try await stream.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), timeout: tlsWait)
    }
}

/// Writes all of `bytes` from a copy that no other code touches while the write parks.
nonisolated(nonsending) public func writeAll(_ stream: some AsyncByteStream, _ bytes: [UInt8]) async throws {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
    defer { copy.deallocate() }
    bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
    try await stream.write(UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]), timeout: tlsWait)
}

/// Reads exactly `count` bytes. - Throws: `TestFailure` at an early end of stream.
nonisolated(nonsending) public func readExactly(_ stream: some AsyncByteStream, count: Int) async throws -> [UInt8] {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
    defer { buffer.deallocate() }
    var filled = 0
    while filled < count {
        let n = try await stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<count]), timeout: tlsWait)
        guard n > 0 else { throw TestFailure("end of stream after \(filled) of \(count) bytes") }
        filled += n
    }
    return Array(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
}
