import HTTPTestServer
import NetCore

#if canImport(Glibc)
    import Glibc
    import TestSupport
#endif

/// nginx from Debian, started on 127.0.0.1 for one test with `nginx/nginx.conf.template`,
/// serving generated files: an independent HTTP implementation to check the client against.
final class NginxServer {
    static let binary: String? = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { (path: String) in access(path, X_OK) == 0 }
    static var isInstalled: Bool { binary != nil }

    /// The generated file's seed and size (`/data.bin`).
    static let seed: UInt64 = 21
    static let size = 4 << 20

    let port: UInt16
    private let directory: String
    private var pid: pid_t = 0

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Writes the data and the config under a new temporary directory and starts nginx.
    /// - Throws: `TestFailure` if nginx is missing or does not answer within 5 s.
    init() throws {
        guard let binary = Self.binary else { throw TestFailure("nginx is not installed") }
        var template = Array("/tmp/stacklessnet-nginx-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        directory = String(cString: made)
        chmod(directory, 0o755)  // nginx's worker may run as nobody
        let probe = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        port = probe.port
        probe.close()
        for sub in ["www", "run", "run/tmp_body", "run/tmp_proxy", "run/tmp_fcgi", "run/tmp_uwsgi", "run/tmp_scgi"] {
            mkdir("\(directory)/\(sub)", 0o755)
        }
        var data = [UInt8](repeating: 0, count: Self.size)
        data.withUnsafeMutableBytes { GeneratedContent.fill($0, seed: Self.seed, offset: 0) }
        try LocalDaemon.write(data, to: "\(directory)/www/data.bin")
        try LocalDaemon.write(
            Array(String(repeating: "compressible text, served gzip'd and chunked\n", count: 2000).utf8), to: "\(directory)/www/gz")
        // #filePath has a directory
        let templatePath = String(#filePath.prefix(upTo: #filePath.lastIndex(of: "/")!)) + "/nginx/nginx.conf.template"
        guard var config = LocalDaemon.read(templatePath) else { throw TestFailure("cannot read \(templatePath)") }
        config = config.replacing("@RUN@", with: "\(directory)/run").replacing("@PORT@", with: String(port))
            .replacing("@ROOT@", with: "\(directory)/www")
        if getuid() == 0 { config = "user nobody nogroup;\n" + config }
        try LocalDaemon.write(Array(config.utf8), to: "\(directory)/run/nginx.conf")
        pid = try LocalDaemon.spawn([
            binary, "-c", "\(directory)/run/nginx.conf", "-p", "\(directory)/run", "-e", "\(directory)/run/error.log",
        ])
        try waitUntilListening()
    }

    deinit { stop() }

    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
        _ = LocalDaemon.spawnAndWait(["/bin/rm", "-rf", directory])
    }

    private func waitUntilListening() throws {
        guard !LocalDaemon.waitUntilListening(port: port) else { return }
        let log = LocalDaemon.read("\(directory)/run/error.log") ?? ""
        stop()
        throw TestFailure("nginx did not start: \(log)")
    }
}

/// Starting and stopping a Debian server (nginx, tinyproxy) for a test, and its files.
enum LocalDaemon {
    static func spawn(_ argv: [String]) throws -> pid_t {
        var pid: pid_t = 0
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        let rc = posix_spawn(&pid, argv[0], nil, nil, &cArguments, environ)
        guard rc == 0 else { throw TestFailure("posix_spawn \(argv[0]) failed: \(rc)") }
        return pid
    }

    static func spawnAndWait(_ argv: [String]) -> Int32 {
        guard let pid = try? spawn(argv) else { return -1 }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw TestFailure("cannot create \(path)") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard n > 0 else { throw TestFailure("cannot write \(path)") }
            offset += n
        }
        fchmod(fd, 0o644)
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while case let n = buffer.withUnsafeMutableBytes({ Glibc.read(fd, $0.baseAddress, $0.count) }), n > 0 {
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits (a bounded re-check, 5 s at most) until something accepts on 127.0.0.1:`port`.
    /// - Returns: whether it did.
    static func waitUntilListening(port: UInt16) -> Bool {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let address = SocketAddress.loopbackIPv4(port: port)
            let connected = address.withSockAddr { Glibc.connect(fd, $0, $1) } == 0
            close(fd)
            if connected { return true }
            usleep(50_000)
        }
        return false
    }

    /// A new directory under /tmp that any user can enter (a daemon may drop to nobody).
    static func makeDirectory(_ prefix: String) throws -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        chmod(made, 0o777)
        return String(cString: made)
    }

    /// A free loopback port (bound, read, released).
    static func freePort() throws -> UInt16 {
        let probe = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        defer { probe.close() }
        return probe.port
    }

    /// Stops `pid` (`signal`, then reaps it).
    static func stop(_ pid: pid_t, signal: Int32 = SIGTERM) {
        kill(pid, signal)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
