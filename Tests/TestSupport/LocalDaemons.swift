import HTTPTestServer
import NetCore

#if canImport(Glibc)
    import Glibc
#endif

// Debian's servers for the tests of every target (HTTPClientTests, NetgetTests): a daemon's
// start, wait and stop, and the proxies (tinyproxy, microsocks) with their configs in proxies/.

/// Starting and stopping a Debian server (nginx, tinyproxy) for a test, and its files.
public enum LocalDaemon {
    public static func spawn(_ argv: [String]) throws -> pid_t {
        var pid: pid_t = 0
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        let rc = posix_spawn(&pid, argv[0], nil, nil, &cArguments, environ)
        guard rc == 0 else { throw TestFailure("posix_spawn \(argv[0]) failed: \(rc)") }
        return pid
    }

    public static func spawnAndWait(_ argv: [String]) -> Int32 {
        guard let pid = try? spawn(argv) else { return -1 }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
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

    public static func read(_ path: String) -> String? {
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
    public static func waitUntilListening(port: UInt16) -> Bool {
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

    /// Polls (up to 5 s) until a Unix socket at `path` accepts connections.
    public static func waitUntilListening(unixPath path: String) -> Bool {
        guard let address = try? SocketAddress(unixPath: path) else { return false }
        for _ in 0..<100 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            let connected = address.withSockAddr { Glibc.connect(fd, $0, $1) } == 0
            close(fd)
            if connected { return true }
            usleep(50_000)
        }
        return false
    }

    /// A new directory under /tmp that any user can enter (a daemon may drop to nobody).
    public static func makeDirectory(_ prefix: String) throws -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        chmod(made, 0o777)
        return String(cString: made)
    }

    /// A free loopback port (bound, read, released).
    public static func freePort() throws -> UInt16 {
        let probe = try TCPListener(bindTo: .loopbackIPv4(port: 0))
        defer { probe.close() }
        return probe.port
    }

    /// Stops `pid` (`signal`, then reaps it).
    public static func stop(_ pid: pid_t, signal: Int32 = SIGTERM) {
        kill(pid, signal)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

/// tinyproxy from Debian on 127.0.0.1 for one test, with `proxies/tinyproxy.conf.template`:
/// an HTTP proxy that forwards plain requests and opens CONNECT tunnels (to any port).
public final class TinyproxyServer {
    public static let binary: String? = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"].first { (path: String) in access(path, X_OK) == 0 }
    public static var isInstalled: Bool { binary != nil }

    public let port: UInt16
    private let directory: String
    private var pid: pid_t = 0

    /// The proxy's log, where each request it handled is written.
    public var log: String { LocalDaemon.read("\(directory)/tinyproxy.log") ?? "" }

    /// - Parameters:
    ///   - basicAuth: "user password" the proxy demands (407 without), or nil.
    ///   - settings: more lines for its config (`ConnectPort 443`, `Upstream http HOST:PORT`, ...).
    ///   - filter: with lines, a `Filter` file of host patterns the proxy answers with 403.
    /// - Throws: `TestFailure` if tinyproxy is missing or does not listen within 5 s.
    public init(basicAuth: String? = nil, settings: [String] = [], filter: [String] = []) throws {
        guard let binary = Self.binary else { throw TestFailure("tinyproxy is not installed") }
        directory = try LocalDaemon.makeDirectory("stacklessnet-tinyproxy")
        port = try LocalDaemon.freePort()
        // #filePath has a directory
        let templatePath = String(#filePath.prefix(upTo: #filePath.lastIndex(of: "/")!)) + "/proxies/tinyproxy.conf.template"
        guard var config = LocalDaemon.read(templatePath) else { throw TestFailure("cannot read \(templatePath)") }
        config = config.replacing("@PORT@", with: String(port)).replacing("@RUN@", with: directory)
            .replacing("@USER@", with: getuid() == 0 ? "User nobody\nGroup nogroup" : "")
            .replacing("@AUTH@", with: basicAuth.map { "BasicAuth \($0)" } ?? "")
            .replacing("@EXTRA@", with: (settings + (filter.isEmpty ? [] : ["Filter \"\(directory)/filter\""])).joined(separator: "\n"))
        if !filter.isEmpty { try LocalDaemon.write(Array((filter.joined(separator: "\n") + "\n").utf8), to: "\(directory)/filter") }
        try LocalDaemon.write(Array(config.utf8), to: "\(directory)/tinyproxy.conf")
        pid = try LocalDaemon.spawn([binary, "-d", "-c", "\(directory)/tinyproxy.conf"])
        guard LocalDaemon.waitUntilListening(port: port) else {
            let log = LocalDaemon.read("\(directory)/tinyproxy.log") ?? ""
            stop()
            throw TestFailure("tinyproxy did not start: \(log)")
        }
    }

    deinit { stop() }

    public func stop() {
        guard pid > 0 else { return }
        // tinyproxy waits on SIGTERM for its clients' connections to end (a pooled keep-alive
        // one may stay open); it keeps no state worth a clean exit.
        LocalDaemon.stop(pid, signal: SIGKILL)
        pid = 0
        _ = LocalDaemon.spawnAndWait(["/bin/rm", "-rf", directory])
    }
}

/// microsocks from Debian on 127.0.0.1 for one test: a SOCKS5 server (RFC 1928), with RFC 1929
/// user/password authentication when given.
public final class MicrosocksServer {
    public static let binary: String? = ["/usr/bin/microsocks", "/usr/sbin/microsocks"].first { (path: String) in access(path, X_OK) == 0 }
    public static var isInstalled: Bool { binary != nil }

    public let port: UInt16
    private var pid: pid_t = 0

    /// - Parameter credential: (user, password) the server demands, or nil for none.
    /// - Throws: `TestFailure` if microsocks is missing or does not listen within 5 s.
    public init(credential: (String, String)? = nil) throws {
        guard let binary = Self.binary else { throw TestFailure("microsocks is not installed") }
        port = try LocalDaemon.freePort()
        var arguments = [binary, "-i", "127.0.0.1", "-p", String(port)]
        if let (user, password) = credential { arguments += ["-u", user, "-P", password] }
        pid = try LocalDaemon.spawn(arguments)
        guard LocalDaemon.waitUntilListening(port: port) else {
            stop()
            throw TestFailure("microsocks did not start")
        }
    }

    deinit { stop() }

    public func stop() {
        guard pid > 0 else { return }
        LocalDaemon.stop(pid, signal: SIGKILL)  // it keeps no state; a client may hold a connection
        pid = 0
    }
}

/// haproxy from Debian on 127.0.0.1 for one test, with `proxies/haproxy-tls.cfg.template`: TLS
/// terminated with a certificate of its own (for 127.0.0.1, not the origin's), the bytes passed
/// on to a `TinyproxyServer`: together an `https://` proxy.
public final class HaproxyTLSFront {
    public static let binary: String? = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].first { (path: String) in access(path, X_OK) == 0 }
    public static var isInstalled: Bool { binary != nil }

    public let port: UInt16
    /// The proxy's certificate, for a client to trust.
    public let certificateFile: String
    private let directory: String
    private var pid: pid_t = 0

    /// - Throws: `TestFailure` if haproxy is missing or does not listen within 5 s.
    public init(forwardingTo upstream: UInt16) throws {
        guard let binary = Self.binary else { throw TestFailure("haproxy is not installed") }
        directory = try LocalDaemon.makeDirectory("stacklessnet-haproxy")
        port = try LocalDaemon.freePort()
        let (certificate, key) = try TestCertificate.generate(
            inDirectory: "\(directory)/tls", dnsNames: ["proxy.test"], ipAddresses: ["127.0.0.1"])
        certificateFile = certificate
        guard let certificateText = LocalDaemon.read(certificate), let keyText = LocalDaemon.read(key) else {
            throw TestFailure("cannot read the proxy's certificate")
        }
        try LocalDaemon.write(Array((certificateText + keyText).utf8), to: "\(directory)/proxy.pem")  // haproxy's crt: both in one
        // #filePath has a directory
        let templatePath = String(#filePath.prefix(upTo: #filePath.lastIndex(of: "/")!)) + "/proxies/haproxy-tls.cfg.template"
        guard var config = LocalDaemon.read(templatePath) else { throw TestFailure("cannot read \(templatePath)") }
        config = config.replacing("@PORT@", with: String(port)).replacing("@RUN@", with: directory)
            .replacing("@UPSTREAM@", with: String(upstream)).replacing(
                "@USER@", with: getuid() == 0 ? "user nobody\n    group nogroup" : "")
        try LocalDaemon.write(Array(config.utf8), to: "\(directory)/haproxy.cfg")
        pid = try LocalDaemon.spawn([binary, "-db", "-q", "-f", "\(directory)/haproxy.cfg"])
        guard LocalDaemon.waitUntilListening(port: port) else {
            stop()
            throw TestFailure("haproxy did not start")
        }
    }

    deinit { stop() }

    public func stop() {
        guard pid > 0 else { return }
        LocalDaemon.stop(pid, signal: SIGKILL)  // it keeps no state; a pooled client connection may stay open
        pid = 0
        _ = LocalDaemon.spawnAndWait(["/bin/rm", "-rf", directory])
    }
}
