import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// How one netget (or helper) process ended: its exit status and everything it printed.
struct ProcessOutput: Sendable {
    /// The exit status, or 128 + the signal number if a signal ended it.
    var exitCode: Int32
    var stdout: String
    var stderr: String
    /// True when the hard timeout killed the process.
    var timedOut: Bool
    /// From the spawn to the end of the process (not counting any wait for a process slot).
    var elapsed: Duration
    /// When the harness saw the process end (on its own thread, not when a test got round to it).
    var endedAt: ContinuousClock.Instant

    /// Standard error split into lines (no empty trailing line).
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
    /// Standard output split into lines (no empty lines).
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    /// The lines netget prints for a failure: they start with "netget: ".
    var errorLines: [String] { stderrLines.filter { $0.hasPrefix("netget: ") } }
}

/// The built `netget` executable: next to the test bundle, since `swift build --build-tests`
/// builds every executable product into the same directory.
/// - Throws: `TestFailure` telling how to build it when it is missing.
func netgetExecutable() throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { throw TestFailure("cannot resolve /proc/self/exe: \(String(cString: strerror(errno)))") }
    let selfPath = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let directory = selfPath.lastIndex(of: "/").map { String(selfPath[..<$0]) } ?? "."
    let path = directory + "/netget"
    guard access(path, X_OK) == 0 else {
        throw TestFailure("the netget executable is missing at \(path): run `swift build --build-tests` before `swift test --skip-build`")
    }
    return path
}

/// At most a few child processes at once: the suite runs its tests in parallel on a 2-core
/// machine, and netget's timeouts (0.5 s in some tests) must not trip on a starved CPU.
actor ProcessSlots {
    static let shared = ProcessSlots(limit: 4)

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { free = limit }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// The proxy variables of curl's rules (HTTP_PROXY too, which netget ignores as curl does).
let proxyVariables: Set<String> = [
    "http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
]

/// A config directory that does not exist: a developer's ~/.config/netget/config must not steer
/// the tests either (a test of config files sets XDG_CONFIG_HOME or HOME itself).
let noConfigDirectory = "XDG_CONFIG_HOME=/nonexistent/netget-tests-config"

/// The test process's environment without the proxy variables (a developer's proxy must not
/// steer the tests), with XDG_CONFIG_HOME pointing nowhere, then `extra` ("NAME=value" each),
/// which replaces a variable of the same name.
func netgetEnvironment(_ extra: [String] = []) -> [String] {
    func name(_ entry: String) -> String { String(entry.prefix { $0 != "=" }) }
    let replaced = Set(extra.map(name))
    var variables: [String] = []
    var cursor = environ
    while let entry = cursor.pointee {
        let text = String(cString: entry)
        if !proxyVariables.contains(name(text)) && !replaced.contains(name(text)) && name(text) != "XDG_CONFIG_HOME" {
            variables.append(text)
        }
        cursor += 1
    }
    return variables + (replaced.contains("XDG_CONFIG_HOME") ? [] : [noConfigDirectory]) + extra
}

/// Runs the built netget with `arguments` in `directory`, `input` on its standard input, in the
/// test process's environment without proxy variables, plus `environment` ("NAME=value" each).
/// - Throws: `TestFailure` when netget is not built or cannot start.
func netget(
    _ arguments: [String], in directory: String, input: String = "", environment: [String] = [], timeout: Duration = .seconds(60)
) async throws -> ProcessOutput {
    let executable = try netgetExecutable()
    await ProcessSlots.shared.acquire()
    let child: ChildProcess
    do {
        child = try ChildProcess(
            executable: executable, arguments: arguments, directory: directory, input: Array(input.utf8),
            environment: netgetEnvironment(environment), timeout: timeout)
    } catch {
        await ProcessSlots.shared.release()
        throw error
    }
    let output = await child.output()
    await ProcessSlots.shared.release()
    #expect(!output.timedOut, "netget \(arguments) was killed after \(timeout)")
    return output
}

/// Starts the built netget and returns at once (for a test that signals it); `finish(_:)`
/// waits for it. Holds a process slot until then.
func startNetget(_ arguments: [String], in directory: String, timeout: Duration = .seconds(60)) async throws -> ChildProcess {
    let executable = try netgetExecutable()
    await ProcessSlots.shared.acquire()
    do {
        return try ChildProcess(
            executable: executable, arguments: arguments, directory: directory, environment: netgetEnvironment(), timeout: timeout)
    } catch {
        await ProcessSlots.shared.release()
        throw error
    }
}

/// Waits for a child started by `startNetget` and gives its slot back.
func finish(_ child: ChildProcess) async -> ProcessOutput {
    let output = await child.output()
    await ProcessSlots.shared.release()
    #expect(!output.timedOut, "netget was killed by the harness's timeout")
    return output
}

/// Runs another program (such as sha256sum) and returns its output.
func runTool(_ executable: String, _ arguments: [String], in directory: String) async throws -> ProcessOutput {
    try await ChildProcess(executable: executable, arguments: arguments, directory: directory, timeout: .seconds(30)).output()
}
