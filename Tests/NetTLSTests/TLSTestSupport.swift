import HTTPTestServer
import NetCore
import NetTLS
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Support for this target's suites: certificates, moving ciphertext between two machines in
// memory, and a fresh loop per test.

/// The longest any single wait in these tests may take before the test fails.
let tlsTestWait: Duration = .seconds(10)

struct TLSTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh self-signed certificate (for localhost, 127.0.0.1 and ::1) in its own directory.
struct TLSTestPKI {
    let directory: String
    let certificateFile: String
    let privateKeyFile: String

    init() throws {
        var template = Array("/tmp/nettls-tests-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TLSTestFailure("mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        (certificateFile, privateKeyFile) = try TestCertificate.generate(inDirectory: directory)
    }

    func serverContext() throws -> TLSContext {
        try TLSContext.server(certificateFile: certificateFile, privateKeyFile: privateKeyFile)
    }

    /// Trusts only this certificate, so the tests do not depend on the machine's CA store.
    func clientContext() throws -> TLSContext {
        try TLSContext.client(TLSConfiguration(caFile: certificateFile, useSystemCAStore: false))
    }

    func remove() {
        unlink(certificateFile)
        unlink(privateKeyFile)
        rmdir(directory)
    }
}

/// Deterministic bytes: byte i is a function of i and the seed.
func tlsTestPattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31) &+ ($0 >> 8) &+ seed) }
}

/// Moves every byte of ciphertext `from` has to send into `to`; returns the count.
@discardableResult
func shuttle(from: TLSMachine, to: TLSMachine) throws -> Int {
    var buffer = [UInt8](repeating: 0, count: 32 << 10)
    var moved = 0
    while true {
        let n = buffer.withUnsafeMutableBytes { from.takeCiphertext(into: $0) }
        if n == 0 { return moved }
        try buffer.withUnsafeBytes { try to.receivedCiphertext(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        moved += n
    }
}

/// Runs both handshakes to the end, moving each flight across in memory.
/// - Throws: the first step's error (the client's is tried first each round).
func handshakeInMemory(client: TLSMachine, server: TLSMachine) throws {
    for _ in 0..<10 {
        let clientStep = try client.handshake()
        try shuttle(from: client, to: server)
        let serverStep = try server.handshake()
        try shuttle(from: server, to: client)
        if clientStep == .done(0), serverStep == .done(0) { return }
    }
    throw TLSTestFailure("the handshake did not finish in 10 rounds")
}

/// Writes all of `bytes` into `machine` (ciphertext piles up in it until shuttled).
func writeAll(_ machine: TLSMachine, _ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count { offset += try machine.write(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
    }
}

/// Reads what `machine` can decrypt now, until it needs ciphertext or the stream ends.
/// - Returns: the bytes, and whether the end of the stream was reached.
func readAvailable(_ machine: TLSMachine) throws -> (bytes: [UInt8], ended: Bool) {
    var buffer = [UInt8](repeating: 0, count: 16 << 10)
    var got: [UInt8] = []
    while true {
        let step = try buffer.withUnsafeMutableBytes { try machine.read(into: $0) }
        switch step {
        case .needsCiphertext: return (got, false)
        case .done(0): return (got, true)
        case .done(let n): got += buffer[0..<n]
        }
    }
}

/// A value one thread writes and another reads after `run()` returned (which orders them).
final class TLSTestBox<Value>: @unchecked Sendable {  // ordered by run(), see above
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs `body` as a tasklet on a fresh loop driven on the calling thread; returns its result.
func runTLSTestTasklets<T: Sendable>(_ body: sending @escaping () async throws -> T) throws -> T {
    let loop = try Loop(name: "nettls-test")
    let result = TLSTestBox<Result<T, any Error>?>(nil)
    loop.spawn(name: "test") {
        do { result.value = .success(try await body()) } catch { result.value = .failure(error) }
    }
    loop.run()
    #expect(loop.stats.activeWatchers == 0, "every watcher is stopped once the loop is idle")
    guard let outcome = result.value else { throw TLSTestFailure("the tasklet never finished") }
    return try outcome.get()
}

/// Echoes until the peer ends the stream.
nonisolated(nonsending) func echoUntilEndOfStream(_ stream: some AsyncByteStream) async throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32_768, alignment: 1)
    defer { buffer.deallocate() }
    while true {
        let n = try await stream.read(into: buffer, timeout: tlsTestWait)
        if n == 0 { return }
        try await stream.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), timeout: tlsTestWait)
    }
}

/// Writes all of `bytes` from a copy that no other code touches while the write parks.
nonisolated(nonsending) func writeAll(_ stream: some AsyncByteStream, _ bytes: [UInt8]) async throws {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
    defer { copy.deallocate() }
    bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
    try await stream.write(UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]), timeout: tlsTestWait)
}

/// Reads exactly `count` bytes, failing at an early end of stream.
nonisolated(nonsending) func readExactly(_ stream: some AsyncByteStream, count: Int) async throws -> [UInt8] {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
    defer { buffer.deallocate() }
    var filled = 0
    while filled < count {
        let n = try await stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<count]), timeout: tlsTestWait)
        guard n > 0 else { throw TLSTestFailure("end of stream after \(filled) of \(count) bytes") }
        filled += n
    }
    return Array(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
}
