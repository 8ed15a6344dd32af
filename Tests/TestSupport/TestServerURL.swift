/// A URL (or a request target) on the project's `HTTPTestServer`, built from typed options
/// instead of a hand-written query string.
///
/// `TestServerURL(base).gen(1000).seed(4).fault(.reset(at: 500)).once("r1").string` is
/// `BASE/gen/1000?seed=4&fault=reset&at=500&once=r1`: parameters appear in the order they were
/// added, exactly as the server's query parser reads them (see the doc comment on
/// `TestHTTPServer` for what each means). Values are written as given: the caller
/// percent-encodes a value that needs it.
public struct TestServerURL: CustomStringConvertible, Sendable {
    /// A fault on `/gen`; offsets count body bytes of this response.
    public enum Fault: Sendable {
        /// `fault=reset&at=N`: close with SO_LINGER 0 (ECONNRESET) after N body bytes.
        case reset(at: Int)
        /// `fault=close&at=N`: a clean close after N body bytes, the body short.
        case close(at: Int)
        /// `fault=stall&at=N&ms=M`: nothing for M ms after N body bytes, then the rest.
        case stall(at: Int, ms: Int)
        /// `fault=drip&rate=B`: the body paced to B bytes per second.
        case drip(rate: Int)
        /// `fault=malformed&kind=K`: broken bytes instead of the response (K names one of the
        /// server's `MalformedKind`s, which the tests iterate by name).
        case malformed(kind: String)
        /// `fault=status&code=C`: that status with a short text body.
        case status(code: Int)

        var query: [(String, String)] {
            switch self {
            case .reset(let at): return [("fault", "reset"), ("at", "\(at)")]
            case .close(let at): return [("fault", "close"), ("at", "\(at)")]
            case .stall(let at, let ms): return [("fault", "stall"), ("at", "\(at)"), ("ms", "\(ms)")]
            case .drip(let rate): return [("fault", "drip"), ("rate", "\(rate)")]
            case .malformed(let kind): return [("fault", "malformed"), ("kind", kind)]
            case .status(let code): return [("fault", "status"), ("code", "\(code)")]
            }
        }
    }

    private let base: String
    private var path = ""
    private var query: [(String, String)] = []

    /// - Parameter base: the server's `baseURL` ("http://127.0.0.1:PORT"), or "" for a request
    ///   target ("/gen/10?seed=2") to write on a raw socket or hand to a fixture.
    public init(_ base: String = "") { self.base = base }

    /// The URL: base, path, then `?name=value&...` when there are parameters.
    public var string: String {
        query.isEmpty ? base + path : base + path + "?" + query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    public var description: String { string }

    /// The path, "/gen/1000" or "/redirect/302".
    public func path(_ path: String) -> TestServerURL {
        var copy = self
        copy.path = path
        return copy
    }

    /// `/gen/<size>`: `size` bytes of generated content.
    public func gen(_ size: some BinaryInteger) -> TestServerURL { path("/gen/\(size)") }

    /// `/gen/<size>` with a size the server reads with a suffix ("8m", "100k").
    public func gen(_ size: String) -> TestServerURL { path("/gen/\(size)") }

    /// Any parameter, appended as `name=value`: for those without a typed option.
    public func query(_ name: String, _ value: String) -> TestServerURL {
        var copy = self
        copy.query.append((name, value))
        return copy
    }

    /// `seed=S`: which generated content.
    public func seed(_ seed: some BinaryInteger) -> TestServerURL { query("seed", "\(seed)") }

    /// `fault=...` and its parameters.
    public func fault(_ fault: Fault) -> TestServerURL {
        var copy = self
        copy.query += fault.query
        return copy
    }

    /// `once=TOKEN`: the fault fires only on the first request carrying TOKEN.
    public func once(_ token: String) -> TestServerURL { query("once", token) }

    /// `chunked=1` (`chunk=N` bytes per chunk, `trailer=1` when asked), or `chunked=0`.
    public func chunked(_ on: Bool = true, chunk: Int? = nil, trailer: Bool = false) -> TestServerURL {
        var copy = query("chunked", on ? "1" : "0")
        if let chunk { copy = copy.query("chunk", "\(chunk)") }
        return trailer ? copy.query("trailer", "1") : copy
    }

    /// `validators=0` (neither ETag nor Last-Modified) or `validators=1`.
    public func validators(_ on: Bool) -> TestServerURL { query("validators", on ? "1" : "0") }

    /// `noRange=1`: the server ignores Range.
    public func noRange() -> TestServerURL { query("noRange", "1") }

    /// `noHead=1`: a HEAD is answered 405.
    public func noHead() -> TestServerURL { query("noHead", "1") }

    /// `etag=VALUE`, written as given.
    public func etag(_ value: String) -> TestServerURL { query("etag", value) }

    /// `cookie=VALUE`: the response carries `Set-Cookie: VALUE`.
    public func cookie(_ value: String) -> TestServerURL { query("cookie", value) }

    /// `name=VALUE`: the Content-Disposition filename, written as given.
    public func name(_ value: String) -> TestServerURL { query("name", value) }

    /// `counter=TOKEN&changeAfter=K`: the content changes after K requests carrying TOKEN.
    public func counter(_ token: String, changeAfter count: Int) -> TestServerURL {
        query("counter", token).query("changeAfter", "\(count)")
    }

    /// `close=1`: Connection: close.
    public func close() -> TestServerURL { query("close", "1") }
}

/// Every byte outside unreserved characters as %XX (for a query value).
public func percentEncoded(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        let isUnreserved =
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
            || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
        if isUnreserved {
            out.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            let hex = String(byte, radix: 16, uppercase: true)
            out += "%" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return out
}
