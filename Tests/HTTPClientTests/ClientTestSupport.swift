import HTTPClient
import HTTPTestServer
import NetCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A value written by the tasklet and read after `run()` returned (which orders the accesses).
final class Outcome<Value>: @unchecked Sendable {  // see above
    var value: Value?
}

struct ClientTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` as a tasklet on a fresh loop (with `limits`) driven by this thread; returns its result.
func onLoop<T: Sendable>(limits: LoopLimits = .unlimited, _ body: sending @escaping () async throws -> T) throws -> T {
    let loop = try Loop(limits: limits)
    let outcome = Outcome<Result<T, any Error>>()
    loop.spawn(name: "client-test") {
        do { outcome.value = .success(try await body()) } catch { outcome.value = .failure(error) }
    }
    loop.run()
    guard let result = outcome.value else { throw ClientTestFailure("the tasklet never finished") }
    return try result.get()
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
            throw ClientTestFailure("wrong byte at offset \(offset + UInt64(bad))")
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

/// This process's resident memory in bytes (/proc/self/statm).
func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0, resident = 0
    _ = withUnsafeMutablePointer(to: &size) { sizePointer in
        withUnsafeMutablePointer(to: &resident) { residentPointer in
            withVaList([sizePointer, residentPointer]) { vfscanf(file, "%ld %ld", $0) }
        }
    }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}
