import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// netget's two HTTP engines (`--engine`).
enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case loop, workers
    var testDescription: String { rawValue }
    /// The command-line arguments that select it.
    var arguments: [String] { ["--engine", rawValue] }
}

/// One test's world: its own test server and its own empty directory (removed afterwards).
struct Fixture: Sendable {
    let server: TestHTTPServer
    let directory: String

    /// An absolute URL on the test server for `path` ("/gen/1024?seed=2").
    func url(_ path: String) -> String { server.baseURL + path }
    /// An absolute URL on the test server for a typed target (`TestServerURL().gen(1024).seed(2)`).
    func url(_ target: TestServerURL) -> String { server.baseURL + target.string }
    /// A file in the test's directory.
    func file(_ name: String) -> String { directory + "/" + name }
}

/// Runs `body` with a fresh server and directory; stops the server and removes the directory after.
/// At most `FixtureSlots.shared` fixtures exist at once: Swift Testing starts every test case of
/// the target together, and two hundred idle servers (a thread, a loop, descriptors each)
/// waiting for a process slot left the test process no descriptor below 1024 for select(2).
func withFixture(_ body: (Fixture) async throws -> Void) async throws {
    await FixtureSlots.shared.acquire()
    do {
        try await withFreshFixture(body)
    } catch {
        await FixtureSlots.shared.release()
        throw error
    }
    await FixtureSlots.shared.release()
}

private func withFreshFixture(_ body: (Fixture) async throws -> Void) async throws {
    let server = try TestHTTPServer.start()
    defer { server.stop() }
    let directory = try makeTemporaryDirectory()
    defer { removeTree(directory) }
    try await body(Fixture(server: server, directory: directory))
}

/// A new empty directory under /tmp. - Throws: `TestFailure`.
func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/netget-test-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {  // the array is not empty
        throw TestFailure("mkdtemp: \(String(cString: strerror(errno)))")
    }
    return String(cString: made)
}

/// Removes `path` and everything under it (best effort).
func removeTree(_ path: String) {
    for name in directoryEntries(path) {
        let child = path + "/" + name
        var info = stat()
        if lstat(child, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
    }
    rmdir(path)
}

/// The names in a directory, without "." and "..", sorted.
func directoryEntries(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        // d_name is never empty storage
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// The size of a file, nil if it is not there.
func fileSize(_ path: String) -> UInt64? {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_size) : nil
}

/// A whole file. - Throws: `TestFailure` if it cannot be read.
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw TestFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { throw TestFailure("cannot read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { return bytes }
        bytes += chunk[0..<n]
    }
}

/// Writes a whole file (replacing it). - Throws: `TestFailure`.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw TestFailure("cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }  // not empty here
        guard n > 0 else { throw TestFailure("cannot write \(path): \(String(cString: strerror(errno)))") }
        done += n
    }
}

/// `count` bytes of the test server's content for `seed` from `offset`.
func generatedBytes(seed: UInt64, count: Int, offset: UInt64 = 0) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        GeneratedContent.fill(UnsafeMutableRawBufferPointer(buffer), seed: seed, offset: offset)
        initialized = count
    }
}

/// Checks that `path` holds exactly the `size` bytes the server generates for `seed`.
func expectGenerated(_ path: String, seed: UInt64, size: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let bytes = try? readFile(path) else {
        Issue.record("\(path) is missing", sourceLocation: sourceLocation)
        return
    }
    #expect(UInt64(bytes.count) == size, "\(path) has \(bytes.count) bytes, expected \(size)", sourceLocation: sourceLocation)
    let bad = bytes.withUnsafeBytes { GeneratedContent.firstMismatch(in: $0, seed: seed, offset: 0) }
    #expect(bad == nil, "\(path): first wrong byte at offset \(bad ?? -1)", sourceLocation: sourceLocation)
}

/// Checks a failed run's standard error: exactly `count` error lines ("netget: ..."), and no
/// crash report or stack trace anywhere.
func expectCleanErrors(_ output: ProcessOutput, count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        output.errorLines.count == count, "expected \(count) error line(s), stderr was:\n\(output.stderr)", sourceLocation: sourceLocation)
    expectNoCrashReport(output, sourceLocation: sourceLocation)
    #expect(!output.stderr.contains("0x0000"), "stderr has an address dump:\n\(output.stderr)", sourceLocation: sourceLocation)
}

/// The SHA-256 (lower-case hex) of a file, by the system's sha256sum.
func sha256Hex(ofFile path: String) async throws -> String {
    let output = try await runTool("/usr/bin/sha256sum", [path], in: "/")
    guard output.exitCode == 0, let digest = output.stdout.split(separator: " ").first, digest.utf8.count == 64 else {
        throw TestFailure("sha256sum \(path) failed: \(output.stderr)")
    }
    return String(digest)
}

/// The SHA-256 of the server's content for `seed` and `size`: written to a reference file in
/// `directory` with `GeneratedContent.fill`, hashed by sha256sum, then removed.
func expectedSHA256(seed: UInt64, size: Int, in directory: String) async throws -> String {
    let reference = directory + "/reference-\(seed)-\(size)"
    try writeFile(reference, generatedBytes(seed: seed, count: size))
    defer { unlink(reference) }
    return try await sha256Hex(ofFile: reference)
}

/// The fixtures (servers and directories) that may exist at once.
enum FixtureSlots {
    static let shared = ProcessSlots(limit: 8)
}
