import NetCore
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// tinyproxy from Debian on 127.0.0.1 for one test, with `proxies/tinyproxy.conf.template`:
/// an HTTP proxy that forwards plain requests and opens CONNECT tunnels (to any port).
final class TinyproxyServer {
    static let binary: String? = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"].first { (path: String) in access(path, X_OK) == 0 }
    static var isInstalled: Bool { binary != nil }

    let port: UInt16
    private let directory: String
    private var pid: pid_t = 0

    /// - Parameter basicAuth: "user password" the proxy demands (407 without), or nil.
    /// - Throws: `TestFailure` if tinyproxy is missing or does not listen within 5 s.
    init(basicAuth: String? = nil) throws {
        guard let binary = Self.binary else { throw TestFailure("tinyproxy is not installed") }
        directory = try LocalDaemon.makeDirectory("stacklessnet-tinyproxy")
        port = try LocalDaemon.freePort()
        // #filePath has a directory
        let templatePath = String(#filePath.prefix(upTo: #filePath.lastIndex(of: "/")!)) + "/proxies/tinyproxy.conf.template"
        guard var config = LocalDaemon.read(templatePath) else { throw TestFailure("cannot read \(templatePath)") }
        config = config.replacing("@PORT@", with: String(port)).replacing("@RUN@", with: directory)
            .replacing("@USER@", with: getuid() == 0 ? "User nobody\nGroup nogroup" : "")
            .replacing("@AUTH@", with: basicAuth.map { "BasicAuth \($0)" } ?? "")
        try LocalDaemon.write(Array(config.utf8), to: "\(directory)/tinyproxy.conf")
        pid = try LocalDaemon.spawn([binary, "-d", "-c", "\(directory)/tinyproxy.conf"])
        guard LocalDaemon.waitUntilListening(port: port) else {
            let log = LocalDaemon.read("\(directory)/tinyproxy.log") ?? ""
            stop()
            throw TestFailure("tinyproxy did not start: \(log)")
        }
    }

    deinit { stop() }

    func stop() {
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
final class MicrosocksServer {
    static let binary: String? = ["/usr/bin/microsocks", "/usr/sbin/microsocks"].first { (path: String) in access(path, X_OK) == 0 }
    static var isInstalled: Bool { binary != nil }

    let port: UInt16
    private var pid: pid_t = 0

    /// - Parameter credential: (user, password) the server demands, or nil for none.
    /// - Throws: `TestFailure` if microsocks is missing or does not listen within 5 s.
    init(credential: (String, String)? = nil) throws {
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

    func stop() {
        guard pid > 0 else { return }
        LocalDaemon.stop(pid, signal: SIGKILL)  // it keeps no state; a client may hold a connection
        pid = 0
    }
}
