import NetCore

#if canImport(Glibc)
    import Glibc
    import TestSupport
#endif

/// A running child process with its standard streams on pipes. A thread of its own feeds
/// standard input, drains standard output and error (with poll(2), so neither pipe can fill
/// up and block the child), enforces the hard timeout (SIGKILL), and reaps the child.
final class ChildProcess: @unchecked Sendable {  // `state` is guarded by `stateLock`
    /// The child's process id (valid until `output()` has returned).
    let pid: pid_t

    private enum State {
        case running
        case waiting(CheckedContinuation<ProcessOutput, Never>)
        case finished(ProcessOutput)
    }

    private let stateLock = PThreadMutex()
    private var state = State.running

    /// Starts `executable` with `arguments` in `directory`, writing `input` to its standard input
    /// (then closing it). The child gets default SIGINT/SIGTERM/SIGPIPE handling, an empty signal
    /// mask, and no file descriptors but 0, 1 and 2. `environment` ("NAME=value" each) replaces
    /// the test process's environment; nil passes that on.
    /// - Throws: `TestFailure` if the process cannot be started.
    init(
        executable: String, arguments: [String], directory: String, input: [UInt8] = [], environment: [String]? = nil,
        timeout: Duration = .seconds(60)
    ) throws {
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        // pipe2 is not in Swift's Glibc module; the close-on-exec gap after pipe() does not matter,
        // since every child closes all descriptors from 3 up (see below).
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            throw TestFailure("pipe: \(String(cString: strerror(errno)))")
        }
        for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        // Nothing else leaks into the child: not our pipes, not the test servers' sockets (a
        // child holding a server's connection would keep it open after the server closed it).
        let extensions = try SpawnExtensions.shared.get()
        guard extensions.closeFrom(&actions, 3) == 0, extensions.changeDirectory(&actions, directory) == 0 else {
            throw TestFailure("posix_spawn_file_actions: \(String(cString: strerror(errno)))")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, signal) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var childPID: pid_t = 0
        let envp: [UnsafeMutablePointer<CChar>?] = (environment ?? []).map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        let rc =
            environment == nil
            ? posix_spawn(&childPID, executable, &actions, &attributes, argv, environ)
            : posix_spawn(&childPID, executable, &actions, &attributes, argv, envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard rc == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw TestFailure("posix_spawn \(executable): \(String(cString: strerror(rc)))")
        }
        pid = childPID
        let pump = Pump(
            child: self, pid: childPID, stdin: stdinPipe[1], stdout: stdoutPipe[0], stderr: stderrPipe[0],
            input: input, deadline: .now + timeout)
        let thread: pthread_t
        do {
            thread = try OSThreads.start { pump.run() }
        } catch {
            kill(childPID, SIGKILL)
            throw TestFailure("\(error)")
        }
        pthread_detach(thread)  // the pump reaps the child and ends by itself: nobody joins it
    }

    /// Sends `signal` to the child (SIGINT: what Ctrl-C does).
    func send(_ signal: Int32) {
        let done = stateLock.withLock { if case .finished = state { return true } else { return false } }
        if !done { kill(pid, signal) }
    }

    /// Waits for the child to end. - Returns: its status and output.
    func output() async -> ProcessOutput {
        await withCheckedContinuation { continuation in
            let ready: ProcessOutput? = stateLock.withLock {
                if case .finished(let output) = state { return output }
                state = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    fileprivate func finish(_ output: ProcessOutput) {
        let waiter: CheckedContinuation<ProcessOutput, Never>? = stateLock.withLock {
            defer { state = .finished(output) }
            if case .waiting(let continuation) = state { return continuation }
            return nil
        }
        waiter?.resume(returning: output)
    }
}

/// glibc's GNU extensions to posix_spawn (2.29+ and 2.34+), which Swift's Glibc module does not
/// declare: found with dlsym.
struct SpawnExtensions: Sendable {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32

    let closeFrom: CloseFrom
    let changeDirectory: ChangeDirectory

    static let shared: Result<SpawnExtensions, TestFailure> = {
        let process = dlopen(nil, RTLD_NOW)
        guard let closeFrom = dlsym(process, "posix_spawn_file_actions_addclosefrom_np"),
            let changeDirectory = dlsym(process, "posix_spawn_file_actions_addchdir_np")
        else {
            return .failure(TestFailure("this glibc lacks posix_spawn_file_actions_addclosefrom_np or _addchdir_np (2.34+ needed)"))
        }
        return .success(
            SpawnExtensions(
                closeFrom: unsafeBitCast(closeFrom, to: CloseFrom.self),
                changeDirectory: unsafeBitCast(changeDirectory, to: ChangeDirectory.self)))
    }()
}

/// The pump thread's work: feeds, drains, times out, reaps. Owned by that thread alone.
private final class Pump: @unchecked Sendable {  // handed to one thread, used only there
    let child: ChildProcess
    let pid: pid_t
    var stdin: Int32
    var stdout: Int32
    var stderr: Int32
    var input: [UInt8]
    var written = 0
    let deadline: ContinuousClock.Instant
    let started = ContinuousClock.now

    init(child: ChildProcess, pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32, input: [UInt8], deadline: ContinuousClock.Instant) {
        self.child = child
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.input = input
        self.deadline = deadline
    }

    func run() {
        var out: [UInt8] = []
        var err: [UInt8] = []
        var timedOut = false
        if input.isEmpty { closeStdin() } else { _ = fcntl(stdin, F_SETFL, O_NONBLOCK) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while stdout >= 0 || stderr >= 0 {
            let left = deadline - .now
            if left <= .zero {
                timedOut = true
                kill(pid, SIGKILL)
                break
            }
            var fds = [
                pollfd(fd: stdout, events: Int16(POLLIN), revents: 0), pollfd(fd: stderr, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0),
            ]  // a negative fd is ignored by poll
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&fds, nfds_t(fds.count), milliseconds)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            if fds[0].revents != 0 { drain(&stdout, into: &out, chunk: &chunk) }
            if fds[1].revents != 0 { drain(&stderr, into: &err, chunk: &chunk) }
            if fds[2].revents != 0 { feed() }
        }
        closeStdin()
        for fd in [stdout, stderr] where fd >= 0 { close(fd) }
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, timedOut ? 0 : WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { break }
            if reaped == 0 {
                if ContinuousClock.now >= deadline {
                    timedOut = true
                    kill(pid, SIGKILL)
                    _ = waitpid(pid, &status, 0)
                    break
                }
                usleep(2000)
            }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import: decode by hand.
        let signal = status & 0x7F
        let code = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        child.finish(
            ProcessOutput(
                exitCode: code, stdout: String(decoding: out, as: UTF8.self),
                stderr: String(decoding: err, as: UTF8.self), timedOut: timedOut,
                elapsed: ContinuousClock.now - started, endedAt: .now))
    }

    private func drain(_ fd: inout Int32, into bytes: inout [UInt8], chunk: inout [UInt8]) {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            bytes += chunk[0..<n]
        } else if n == 0 || errno != EINTR && errno != EAGAIN {
            close(fd)
            fd = -1
        }
    }

    private func feed() {
        let n = input.withUnsafeBytes { write(stdin, $0.baseAddress! + written, $0.count - written) }  // input not empty while open
        if n > 0 { written += n }
        if n < 0 && errno != EAGAIN && errno != EINTR || written == input.count { closeStdin() }
    }

    private func closeStdin() {
        if stdin >= 0 { close(stdin) }
        stdin = -1
    }
}
