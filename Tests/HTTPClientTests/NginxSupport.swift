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
    /// More free ports, filled in for @PORT2@, @PORT3@, ... (`extraPorts` asked for).
    let extraPorts: [UInt16]
    /// The temporary directory; its `run/` holds the config, logs and any Unix sockets.
    let directory: String
    private var pid: pid_t = 0

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Writes the data and the config under a new temporary directory and starts nginx.
    /// - Parameters:
    ///   - template: a file in `nginx/`; besides @RUN@, @PORT@ and @ROOT@ it may use @PORT2@...
    ///     (`extraPorts` more free ports) and the keys of `substitutions`.
    /// - Throws: `TestFailure` if nginx is missing or does not answer within 5 s.
    init(template templateName: String = "nginx.conf.template", extraPorts extraPortCount: Int = 0, substitutions: [String: String] = [:])
        throws
    {
        guard let binary = Self.binary else { throw TestFailure("nginx is not installed") }
        var template = Array("/tmp/stacklessnet-nginx-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        directory = String(cString: made)
        chmod(directory, 0o755)  // nginx's worker may run as nobody
        let probe = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        port = probe.port
        probe.close()
        extraPorts = try (0..<extraPortCount).map { _ in try LocalDaemon.freePort() }
        for sub in ["www", "run", "run/tmp_body", "run/tmp_proxy", "run/tmp_fcgi", "run/tmp_uwsgi", "run/tmp_scgi"] {
            mkdir("\(directory)/\(sub)", 0o755)
        }
        var data = [UInt8](repeating: 0, count: Self.size)
        data.withUnsafeMutableBytes { GeneratedContent.fill($0, seed: Self.seed, offset: 0) }
        try LocalDaemon.write(data, to: "\(directory)/www/data.bin")
        try LocalDaemon.write(
            Array(String(repeating: "compressible text, served gzip'd and chunked\n", count: 2000).utf8), to: "\(directory)/www/gz")
        // #filePath has a directory
        let templatePath = String(#filePath.prefix(upTo: #filePath.lastIndex(of: "/")!)) + "/nginx/" + templateName
        guard var config = LocalDaemon.read(templatePath) else { throw TestFailure("cannot read \(templatePath)") }
        config = config.replacing("@RUN@", with: "\(directory)/run").replacing("@PORT@", with: String(port))
            .replacing("@ROOT@", with: "\(directory)/www")
        for (index, extra) in extraPorts.enumerated() { config = config.replacing("@PORT\(index + 2)@", with: String(extra)) }
        for (key, value) in substitutions { config = config.replacing(key, with: value) }
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
