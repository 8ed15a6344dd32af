import HTTPClient
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// A usage error: printed as one line, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One download of a run: a URL, and what the command line or its list entry says about it.
struct DownloadEntry {
    var url: HTTPURL
    /// The path the user chose (-o PATH, or a list entry's out=/dir=): written there (an
    /// existing file replaced), and where -c looks for PATH.part. Nil: the server's or the URL's name.
    var output: String?
    /// The directory for a name the server or the URL picks (dir=, else -d); nil: the current one.
    var directory: String?
    /// What the download must hash to (--checksum, --sha256, or the entry's checksum=).
    var checksum: Checksum?
    /// Headers for this URL only (header= lines), sent after the -H ones.
    var headers: [(String, String)] = []
}

/// The checked settings of one netget run.
struct Plan {
    /// The downloads in input order: the command line's URLs, then the list's.
    var entries: [DownloadEntry]
    /// -o -: every body goes to standard output, one after the other; no file, no .part.
    var toStandardOutput: Bool
    /// With -o - and -x N: the most bytes of later segments held in memory until the bytes
    /// before them are written (--stdout-buffer).
    var stdoutBufferLimit: Int
    var directory: String?
    var resume: Bool
    var noClobber: Bool
    var parallel: Int
    var quiet: Bool
    var json: Bool
    /// --dry-run (--spider): probe each URL, write nothing (`DryRun`).
    var dryRun: Bool
    var client: HTTPClientConfiguration
    var download: DownloadOptions
    /// Time and limits (-N, --no-remote-time, --speed-limit, --max-time, --max-filesize).
    var timing = Timing()

    /// - Throws: `UsageError` naming the bad argument.
    init(_ command: NetgetCommand) throws {
        var listed: [URLListEntry] = command.urls.map { URLListEntry(url: $0, line: 0) }
        if let file = command.inputFile { listed += try Self.readURLList(file) }
        guard !listed.isEmpty else { throw UsageError("no URL given (netget URL..., or -i FILE)") }
        let source = "-i \(command.inputFile ?? "")"
        let toStdout = command.output == "-"
        toStandardOutput = toStdout
        if command.output != nil && !toStdout && listed.count > 1 {
            throw UsageError("-o names one file, but \(listed.count) URLs were given (use -d DIR)")
        }
        if command.output != nil && command.directory != nil { throw UsageError("-o and -d conflict: give the directory in the -o path") }
        var checksum: Checksum?
        if let text = command.checksum {
            do { checksum = try Checksum(parsing: text) } catch { throw UsageError("--checksum: \(error)") }
        }
        if let hex = command.sha256 {
            if checksum != nil { throw UsageError("--checksum and --sha256 conflict: give one") }
            do {
                checksum = try Checksum(algorithm: .sha256, hex: hex)
            } catch {
                throw UsageError("--sha256 needs 64 hex digits, got \(hex.debugDescription)")
            }
        }
        if checksum != nil && listed.count > 1 {
            throw UsageError(
                "\(command.checksum != nil ? "--checksum" : "--sha256") checks one file, but \(listed.count) URLs were given "
                    + "(give each its own checksum= in the -i list)")
        }
        entries = try listed.map { item in
            let url: HTTPURL
            do {
                url = try HTTPURL(item.url)
            } catch let error as HTTPClientError {
                throw UsageError(item.line > 0 ? "\(source) line \(item.line): \(error)" : "\(error)")
            }
            if let placement = item.placement, let output = command.output {
                throw UsageError("\(source) line \(placement.line): \(placement.key) conflicts with -o \(output)")
            }
            let directory = item.dir ?? command.directory
            var output = toStdout ? nil : command.output
            if let out = item.out {
                output = out.hasPrefix("/") || directory == nil ? out : Self.join(directory ?? "", out)
            }
            return DownloadEntry(
                url: url, output: output, directory: directory, checksum: item.checksum ?? checksum, headers: item.headers)
        }
        if toStdout {
            if command.resume {
                throw UsageError("-c cannot continue standard output (nothing of an earlier run is kept): write to a file with -o PATH")
            }
            if command.json { throw UsageError("--json prints on standard output, which -o - fills with the body") }
            if command.noClobber { throw UsageError("--no-clobber keeps an existing file, but -o - writes no file") }
        }
        stdoutBufferLimit = 0
        if let text = command.stdoutBuffer {
            guard let value = Self.parseRate(text), value >= 64 << 10, value <= 1 << 30 else {
                throw UsageError("--stdout-buffer takes a size from 64K to 1G, such as 512K or 16M, not \(text.debugDescription)")
            }
            stdoutBufferLimit = value
        } else {
            stdoutBufferLimit = Self.defaultStdoutBuffer
        }
        try Self.check("-x", command.connections, in: 1...64)
        try Self.check("-j", command.parallel, in: 1...256)
        try Self.check("--retries", command.retries, in: 0...1000)
        try Self.check("--max-redirects", command.maxRedirects, in: 0...100)
        let timeout = try Self.seconds("--timeout", command.timeout, in: 0.001...Self.maxSeconds)
        let connectTimeout = try Self.seconds("--connect-timeout", command.connectTimeout, in: 0.001...Self.maxSeconds)
        let retryDelay = try Self.seconds("--retry-delay", command.retryDelay, in: 0...3600)
        guard let engine = HTTPEngine(rawValue: command.engine) else {
            throw UsageError("--engine is loop or workers, not \(command.engine.debugDescription)")
        }
        var rate: Int?
        if let text = command.limitRate {
            guard let value = Self.parseRate(text) else {
                throw UsageError(
                    "--limit-rate takes a rate from 1 to 1T bytes per second, such as 500K, 2M or 1G, not \(text.debugDescription)")
            }
            rate = value
        }
        var headers = try command.headers.map { line -> (String, String) in
            do { return try parseHeader(line) } catch { throw UsageError("-H \(error)") }
        }
        for (option, value) in [("-A", command.userAgent), ("-e", command.referer)] {
            // Checked here, not at the first request: a control character would end the header.
            if let value, value.isEmpty || !value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) {
                throw UsageError("\(option) takes a non-empty value without control characters, not \(value.debugDescription)")
            }
        }
        // -H Referer wins over -e, as the more explicit of the two.
        if let referer = command.referer, !headers.contains(where: { $0.0.lowercased() == "referer" }) {
            headers.append(("Referer", referer))
        }
        for name in command.secretHeaders where !HTTPHeaders.isValidName(name) {
            throw UsageError("--secret-header takes a header name (a token, no colon or space), not \(name.debugDescription)")
        }
        if let cacert = command.cacert, access(cacert, R_OK) != 0 { throw UsageError("--cacert \(cacert): cannot read the file") }
        if command.key != nil || command.pass != nil, command.cert == nil { throw UsageError("--key and --pass need --cert") }
        for (flag, file) in [("--cert", command.cert), ("--key", command.key)] {
            if let file, access(file, R_OK) != 0 { throw UsageError("\(flag) \(file): cannot read the file") }
        }
        if let pins = command.pinnedpubkey {
            do { _ = try TLSContext.client(TLSConfiguration(useSystemCAStore: false, pinnedPublicKeys: [pins])) } catch let error
                as TLSError
            {
                throw UsageError("--pinnedpubkey: \(error.message)")
            }
        }
        if command.ipv4 && command.ipv6 { throw UsageError("-4 and -6 conflict: give one, or neither for both families") }
        let families: AddressFamilies = command.ipv4 ? .v4 : command.ipv6 ? .v6 : .any
        var credential: HTTPCredential?
        if let user = command.user {
            do { credential = try HTTPCredential(userColonPassword: user) } catch { throw UsageError("-u: \(error)") }
        }
        var netrc: Netrc?
        if let path = command.netrcFile ?? (command.netrc ? Netrc.defaultPath : nil) {
            do { netrc = try Netrc.load(path: path) } catch { throw UsageError("--netrc: \(error)") }
        } else if command.netrc {
            throw UsageError("-n: neither NETRC nor HOME is set, so there is no .netrc to read")
        }
        let proxy = try Self.proxySettings(command)
        directory = command.directory
        resume = command.resume
        noClobber = command.noClobber
        // Bodies written one after the other, in input order, as curl concatenates them.
        parallel = toStdout ? 1 : command.parallel
        quiet = command.quiet
        json = command.json
        dryRun = command.dryRun
        client = HTTPClientConfiguration(
            // --timeout bounds the wait for each byte and for the whole response head.
            connectTimeout: connectTimeout, idleTimeout: timeout, headTimeout: timeout,
            maxRedirects: command.maxRedirects, maxConnectionsPerHost: max(8, command.connections * command.parallel),
            tls: TLSConfiguration(
                verifyCertificates: !command.insecure, caFile: command.cacert,
                clientCertificate: command.cert.map {
                    TLSClientCertificate(certificateFile: $0, privateKeyFile: command.key ?? $0, privateKeyPassphrase: command.pass)
                }, minimumVersion: command.tls13 ? .tls13 : .tls12, pinnedPublicKeys: command.pinnedpubkey.map { [$0] } ?? []),
            engine: engine,
            allowInsecureRedirects: command.allowInsecureRedirect, netrc: netrc,
            decompression: command.compressed ? .enabled : .disabled, proxy: proxy, happyEyeballs: HappyEyeballs(families: families))
        if let userAgent = command.userAgent { client.userAgent = userAgent }
        // -v: the heads, as the exchange writes and parses them (both engines: RequestPlan).
        if command.verbose {
            let secret = Set(command.secretHeaders)
            client.headObserver = { VerboseTrace.write($0, secretHeaders: secret) }
        }
        download = DownloadOptions(
            retries: command.retries, retryBaseDelay: retryDelay,
            connections: command.connections, rateLimit: rate, headers: headers,
            credentialHeaderNames: command.secretHeaders, locationTrusted: command.locationTrusted,
            credential: credential, engine: engine)
        try applyTimeAndLimits(command)
    }

    /// The proxies as curl chooses them: `--proxy` for both schemes (with `no_proxy` from the
    /// environment still applied), else `http_proxy`/`https_proxy`/`all_proxy`; `--noproxy`
    /// replaces `no_proxy`. `--proxy ''` connects directly, whatever the environment says.
    /// - Parameter environment: the variables; nil reads the process's.
    /// - Returns: nil when no proxy is set for either scheme.
    /// - Throws: `UsageError` naming the option or variable that is not a proxy URL.
    static func proxySettings(_ command: NetgetCommand, environment: [String: String]? = nil) throws -> ProxySettings? {
        func variable(_ name: String) -> String? {
            let text = environment.map { $0[name] } ?? getenv(name).map { String(cString: $0) }
            return text?.isEmpty == false ? text : nil
        }
        var settings: ProxySettings
        if let text = command.proxy {
            guard !text.isEmpty else { return nil }
            let proxy: HTTPProxy
            do {
                proxy = try HTTPProxy(text)
            } catch HTTPClientError.unsupportedScheme(let scheme) {
                throw UsageError(
                    "--proxy \(text.debugDescription): \(scheme.debugDescription) is not a proxy scheme (http, https, socks5, socks5h)")
            } catch {
                throw UsageError("--proxy \(text.debugDescription): \(error)")
            }
            settings = ProxySettings(proxy: proxy, noProxy: variable("no_proxy") ?? variable("NO_PROXY") ?? "")
        } else {
            do { settings = try ProxySettings.fromEnvironment(environment) } catch { throw UsageError("\(error)") }
        }
        if let list = command.noproxy { settings.noProxy = NoProxyList(list) }
        return settings.httpProxy == nil && settings.httpsProxy == nil ? nil : settings
    }

    /// The longest any timeout may be: 30 days (a larger one is a typo, and `Duration` traps
    /// on values it cannot hold).
    static let maxSeconds = 30.0 * 86400

    /// - Throws: `UsageError` unless `value` lies in `range`.
    static func check(_ name: String, _ value: Int, in range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw UsageError("\(name) must be \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }

    /// Seconds as a `Duration`. - Throws: `UsageError` for NaN, an infinity or a value outside `range`.
    static func seconds(_ name: String, _ value: Double, in range: ClosedRange<Double>) throws -> Duration {
        guard value.isFinite, range.contains(value) else {
            throw UsageError("\(name) takes seconds from \(format(range.lowerBound)) to \(format(range.upperBound)), got \(value)")
        }
        return .nanoseconds(Int64((value * 1e9).rounded()))
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : String(value)
    }

    /// "500K", "2M", "1.5G", "800" -> bytes per second (K = 1024).
    static func parseRate(_ text: String) -> Int? {
        var digits = text.uppercased()
        var multiplier = 1.0
        if let last = digits.last, let scale = ["K": 1024.0, "M": 1048576.0, "G": 1073741824.0][String(last)] {
            multiplier = scale
            digits.removeLast()
        }
        // At most 1 TiB/s: any more is a typo, and Int(...) would trap past Int.max.
        guard let value = Double(digits), value.isFinite, value > 0, value * multiplier <= Double(1 << 40) else { return nil }
        return max(1, Int(value * multiplier))
    }

    /// The default of --stdout-buffer: 16 MiB.
    static let defaultStdoutBuffer = 16 << 20

    /// `directory/name`, with one slash between.
    static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The entries of a list file (or standard input for "-"), in aria2's form (`URLList`).
    /// - Throws: `UsageError` if it cannot be read, or naming the line that is wrong.
    static func readURLList(_ path: String) throws -> [URLListEntry] {
        // "-" is standard input (a pipe reads to its end like a file).
        guard let bytes = FileSystemCalls.readSmallFile(path == "-" ? "/dev/stdin" : path, limit: 256 << 20) else {
            throw UsageError("-i \(path): \(String(cString: strerror(errno)))")
        }
        return try URLList.parse(String(decoding: bytes, as: UTF8.self), source: "-i \(path)")
    }
}
