import HTTPClient
import NetCore
import Workers

/// netget's exit statuses: stable, one per cause, curl's numbers where curl has one. The one
/// table (`helpTable`) goes into --help and the README; `of(_:storage:)` is the one mapping
/// from the library's errors. With several URLs the status is that of the first URL that
/// failed, in input order; an interrupt (130) wins over every other.
enum ExitStatus: Int32, CaseIterable {
    /// Every download succeeded (a --no-clobber skip too: the file is there, as asked).
    case success = 0
    /// A failure with no code of its own: a response that breaks HTTP, too many redirects, a
    /// refused insecure redirect, a body that cannot be decoded, the file changed on the server.
    case failure = 1
    /// A bad command line, config file or -i list: nothing was fetched.
    case usage = 2
    /// The download's digest is not the one given (the data is kept in PATH.part).
    case checksum = 3
    /// The host name could not be resolved (curl's 6).
    case resolve = 6
    /// No connection, or it broke: refused, reset, closed before the body's end, unreachable,
    /// or a SOCKS proxy would not open the way (curl's 7).
    case connect = 7
    /// The server answered with an error status, 4xx or 5xx, after the retries; or the proxy
    /// did (407, or a CONNECT refused) (curl's 22).
    case httpStatus = 22
    /// The output could not be written: the disk is full, permission denied, an I/O error, or
    /// standard output (-o -) closed by its reader (curl's 23).
    case write = 23
    /// A timeout: connecting (--connect-timeout), no data (--timeout), a response head
    /// (--timeout), and for the limits --speed-limit/--speed-time and --max-time (curl's 28).
    case timeout = 28
    /// TLS: the handshake failed, or the certificate is not trusted or not for the host (curl's 35).
    case tls = 35
    /// The file is larger than --max-filesize (curl's 63).
    case fileTooLarge = 63
    /// netget refused to write over something: PATH.part is a symbolic link or not a regular
    /// file, or another netget holds its lock (curl's 73: a file that will not be overwritten).
    case refusedOverwrite = 73
    /// The server's public key matches no --pinnedpubkey hash (curl's 90).
    case pinnedPublicKey = 90
    /// Interrupted (Ctrl-C, SIGTERM); -c continues from PATH.part.
    case interrupted = 130

    /// What the status means, for the table.
    var meaning: String {
        switch self {
        case .success: return "every download succeeded (a --no-clobber skip, a -N up to date too)"
        case .failure: return "another failure (a response that breaks HTTP, redirects, decoding, ...)"
        case .usage: return "usage error: a bad option, URL, config file line or -i list line"
        case .checksum: return "checksum mismatch (the data is kept in PATH.part)"
        case .resolve: return "the host name could not be resolved"
        case .connect: return "no connection, or it broke (refused, reset, cut short, unreachable)"
        case .httpStatus: return "the server (or the proxy) answered an error status (4xx, 5xx)"
        case .write: return "the output could not be written (disk full, permission, -o - closed)"
        case .timeout: return "a timeout (connect, --timeout, --speed-limit, --max-time)"
        case .tls: return "TLS handshake or certificate verification failed"
        case .fileTooLarge: return "larger than --max-filesize"
        case .refusedOverwrite: return "refused to write over PATH.part (a link, locked by another netget)"
        case .pinnedPublicKey: return "the server's public key matches no --pinnedpubkey hash"
        case .interrupted: return "interrupted (Ctrl-C); -c continues"
        }
    }

    /// The table, one status a line, for --help.
    static var helpTable: String {
        allCases.map { status in
            let code = String(status.rawValue)
            return "  " + code + String(repeating: " ", count: 5 - code.count) + status.meaning
        }.joined(separator: "\n")
    }

    /// The status of a download that failed with `error`.
    /// - Parameter storage: the last error of the part file, when the download's sink failed
    ///   (the library wraps it in `DownloadError.storage`, without its errno).
    static func of(_ error: any Error, storage: PartFileError?) -> ExitStatus {
        if error is CancellationError { return .interrupted }
        if let storage { return storage.refusesOverwrite ? .refusedOverwrite : .write }
        // --speed-limit and --max-time are timeouts; --max-filesize has its own.
        if let limit = LimitExceeded(error) { return limit == .maxFileSize ? .fileTooLarge : .timeout }
        switch error {
        case let file as PartFileError: return file.refusesOverwrite ? .refusedOverwrite : .write
        case DownloadError.storage: return .write
        // A 304 nobody asked for (or another status that is no error but not the file) is a failure.
        case DownloadError.httpStatus(let code, _, _): return code >= 400 ? .httpStatus : .failure
        // The connection ended before the body did (cut short: the connection broke).
        case DownloadError.incomplete, HTTPClientError.parse(.truncated): return .connect
        case HTTPClientError.rangeNotSatisfiable: return .httpStatus
        case HTTPClientError.proxy(.authenticationRequired), HTTPClientError.proxy(.refused): return .httpStatus
        case HTTPClientError.resolve: return .resolve
        case HTTPClientError.network, HTTPClientError.proxy: return .connect
        case HTTPClientError.tls(let tls) where tls.kind == .publicKeyPinMismatch: return .pinnedPublicKey
        case HTTPClientError.tls: return .tls
        case HTTPClientError.timedOut: return .timeout
        case is ResolverError: return .resolve
        case is NetError: return .connect
        default: return .failure
        }
    }
}

extension JobReport {
    /// This download's part of the exit status.
    var exitStatus: ExitStatus {
        switch outcome {
        case .succeeded, .skipped, .upToDate: return .success
        case .checksumMismatch: return .checksum
        case .interrupted: return .interrupted
        case .outputFailed: return .write
        case .failed: return failure
        }
    }
}
