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

/// The checked settings of one netget run.
struct Plan {
    var urls: [HTTPURL]
    var output: String?
    var directory: String?
    var resume: Bool
    var noClobber: Bool
    var sha256: [UInt8]?
    var parallel: Int
    var quiet: Bool
    var json: Bool
    var client: HTTPClientConfiguration
    var download: DownloadOptions

    /// - Throws: `UsageError` naming the bad argument.
    init(_ command: NetgetCommand) throws {
        var texts = command.urls
        if let file = command.inputFile { texts += try Self.readURLList(file) }
        guard !texts.isEmpty else { throw UsageError("no URL given (netget URL..., or -i FILE)") }
        urls = try texts.map { text in
            do {
                return try HTTPURL(text)
            } catch let error as HTTPClientError {
                throw UsageError("\(error)")
            }
        }
        if command.output != nil && urls.count > 1 { throw UsageError("-o names one file, but \(urls.count) URLs were given (use -d DIR)") }
        if command.output != nil && command.directory != nil { throw UsageError("-o and -d conflict: give the directory in the -o path") }
        if command.sha256 != nil && urls.count > 1 { throw UsageError("--sha256 checks one file, but \(urls.count) URLs were given") }
        if let hex = command.sha256 {
            guard let digest = Self.hexBytes(hex), digest.count == 32 else {
                throw UsageError("--sha256 needs 64 hex digits, got \(hex.debugDescription)")
            }
            sha256 = digest
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
        let headers = try command.headers.map { line -> (String, String) in
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw UsageError("-H takes 'Name: value', not \(line.debugDescription)")
            }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            return (String(line[..<colon]), String(value))
        }
        for name in command.secretHeaders where !HTTPHeaders.isValidName(name) {
            throw UsageError("--secret-header takes a header name (a token, no colon or space), not \(name.debugDescription)")
        }
        if let cacert = command.cacert, access(cacert, R_OK) != 0 { throw UsageError("--cacert \(cacert): cannot read the file") }
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
        output = command.output
        directory = command.directory
        resume = command.resume
        noClobber = command.noClobber
        parallel = command.parallel
        quiet = command.quiet
        json = command.json
        client = HTTPClientConfiguration(
            // --timeout bounds the wait for each byte and for the whole response head.
            connectTimeout: connectTimeout, idleTimeout: timeout, headTimeout: timeout,
            maxRedirects: command.maxRedirects, maxConnectionsPerHost: max(8, command.connections * command.parallel),
            tls: TLSConfiguration(verifyCertificates: !command.insecure, caFile: command.cacert), engine: engine,
            allowInsecureRedirects: command.allowInsecureRedirect, netrc: netrc,
            decompression: command.compressed ? .enabled : .disabled, proxy: proxy, happyEyeballs: HappyEyeballs(families: families))
        download = DownloadOptions(
            retries: command.retries, retryBaseDelay: retryDelay,
            connections: command.connections, rateLimit: rate, headers: headers,
            credentialHeaderNames: command.secretHeaders, locationTrusted: command.locationTrusted,
            credential: credential, engine: engine)
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

    static func hexBytes(_ text: String) -> [UInt8]? {
        let characters = Array(text.lowercased().utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: characters.count, by: 2) {
            guard let high = hexDigit(characters[index]), let low = hexDigit(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }

    /// The URLs in a list file (or standard input for "-"): one per line, blank lines and
    /// lines starting with # skipped. - Throws: `UsageError` if it cannot be read.
    static func readURLList(_ path: String) throws -> [String] {
        // "-" is standard input (a pipe reads to its end like a file).
        guard let bytes = FileSystemCalls.readSmallFile(path == "-" ? "/dev/stdin" : path, limit: 256 << 20) else {
            throw UsageError("-i \(path): \(String(cString: strerror(errno)))")
        }
        return String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map {
            String($0).trimmingCharacters(in: " \t\r")
        }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
