import ContentCoding
import NetCore
import NetTLS
import Workers

/// Which timeout fired.
public enum HTTPTimeout: String, Sendable, Equatable {
    /// Making the TCP (and TLS) connection.
    case connect
    /// No byte arrived (or could be sent) for the idle timeout.
    case idle
    /// The response head (interim responses included) was not complete within the head
    /// timeout after the request was sent, however steadily its bytes trickled in.
    case head
    /// The whole request, redirects and body included, took longer than the total timeout.
    case total
}

/// Why a request failed. Both engines throw the same cases for the same failure, so a caller
/// can switch engines without changing its error handling.
public enum HTTPClientError: Error, Equatable, CustomStringConvertible {
    /// A URL (the request's, or a redirect's Location) that cannot be parsed: the text, and why.
    case invalidURL(String, reason: String)
    /// A scheme other than http, https, http+unix or https+unix (lowercased).
    case unsupportedScheme(String)
    /// A header name or value that would corrupt the request (CR, LF, NUL, a bad name).
    case invalidRequest(String)
    /// Name resolution failed.
    case resolve(ResolverError)
    /// A socket error: refused, reset, unreachable, ...
    case network(NetError)
    /// The TLS context could not be made, the handshake failed, or the server's certificate
    /// was refused (verification is on by default).
    case tls(TLSError)
    /// A timeout of `HTTPClientConfiguration` fired: which one, and its limit.
    case timedOut(HTTPTimeout, Duration)
    /// The response's bytes broke HTTP/1.1.
    case parse(HTTPParseError)
    /// Another redirect after `HTTPClientConfiguration.maxRedirects` were followed.
    case tooManyRedirects(limit: Int)
    /// A redirect to a URL this request already visited; carries that URL.
    case redirectLoop(String)
    /// A 301, 302, 303, 307 or 308 with no (or an empty) Location header; carries the status.
    case redirectWithoutLocation(status: Int)
    /// A redirect from https to http, refused unless `allowInsecureRedirects` is set.
    case insecureRedirect(from: HTTPURL, to: HTTPURL)
    /// 416: the range starts past the end; `completeLength` from `Content-Range: bytes */N`.
    case rangeNotSatisfiable(completeLength: UInt64?)
    /// A 206 whose Content-Range is missing, malformed, or not the range that was asked for.
    case invalidContentRange(String)
    /// `collect(upTo:)` found a longer body.
    case bodyTooLarge(limit: Int)
    /// The body could not be decoded (`HTTPClientConfiguration.decompression`): corrupt, cut
    /// short, followed by garbage, or past a limit (a decompression bomb).
    case decoding(ContentDecodingError)
    /// A range was asked for and the answer came content-coded, with decoding on: its ranges
    /// count encoded bytes, so it cannot be placed in the decoded file.
    case encodedRange(ContentCoding)
    /// The proxy did not open the way to the origin.
    case proxy(ProxyError)

    /// One line for a person: what failed, and for a refused insecure redirect how to allow it.
    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): return "invalid URL \(url.debugDescription): \(reason)"
        case .unsupportedScheme(let scheme):
            return "unsupported scheme \(scheme.debugDescription) (http, https, http+unix and https+unix only)"
        case .invalidRequest(let detail): return "invalid request: \(detail)"
        case .resolve(let error): return "\(error)"
        case .network(let error): return "\(error)"
        case .tls(let error): return "\(error)"
        case .timedOut(let kind, let limit):
            switch kind {
            case .connect: return "connection not made within \(limit)"
            case .idle: return "no data for \(limit) (idle timeout)"
            case .head: return "the response head did not arrive within \(limit) (head timeout)"
            case .total: return "the request took longer than \(limit) (total timeout)"
            }
        case .parse(let error): return "bad response: \(error)"
        case .tooManyRedirects(let limit): return "more than \(limit) redirects"
        case .redirectLoop(let url): return "redirect loop: \(url) was already visited"
        case .redirectWithoutLocation(let status): return "\(status) redirect without a Location header"
        case .insecureRedirect(let from, let to):
            return "refused to follow a redirect from https to http (\(from) to \(to)); to allow it, "
                + "pass --allow-insecure-redirect (netget) or set allowInsecureRedirects"
        case .rangeNotSatisfiable(let length):
            return "416 range not satisfiable" + (length.map { " (the resource has \($0) bytes)" } ?? "")
        case .invalidContentRange(let detail): return "bad partial response: \(detail)"
        case .bodyTooLarge(let limit): return "the body is larger than \(limit) bytes"
        case .decoding(let error): return "\(error)"
        case .proxy(let error): return "\(error)"
        case .encodedRange(let coding):
            return "a range of a \(coding)-encoded body cannot be decoded into place (ranges count encoded bytes): "
                + "download it whole, or without decompression"
        }
    }

    /// Whether trying again (and resuming) may succeed: network trouble, timeouts, a truncated
    /// body. Bad URLs, TLS verification, redirect loops and malformed heads are permanent.
    public var isTransient: Bool {
        switch self {
        case .network, .timedOut: return true
        case .parse(.truncated): return true
        case .proxy(let error): return error.isTransient
        case .resolve(let error): return !error.isNoSuchHost
        default: return false
        }
    }

    /// Wraps what an engine's I/O threw into the shared error cases.
    static func wrapping(_ error: any Error, timeout: HTTPTimeout, limit: Duration?) -> any Error {
        switch error {
        case let error as HTTPClientError: return error
        case let error as NetError where error.kind == .timedOut: return HTTPClientError.timedOut(timeout, limit ?? .zero)
        case let error as NetError: return HTTPClientError.network(error)
        case let error as TLSError: return HTTPClientError.tls(error)
        case let error as ResolverError: return HTTPClientError.resolve(error)
        case let error as HTTPParseError: return HTTPClientError.parse(error)
        default: return error  // CancellationError and the like pass through as they are
        }
    }
}
