/// A fault injected into a `/gen` response, chosen by the query (`fault=...`).
enum Fault: Equatable {
    /// After `at` body bytes, close with SO_LINGER 0: the client reads ECONNRESET.
    case reset(at: UInt64)
    /// After `at` body bytes, close cleanly although the head announced more.
    case close(at: UInt64)
    /// After `at` body bytes, send nothing for `duration`, then go on.
    case stall(at: UInt64, duration: Duration)
    /// Send the body in small pieces paced to `bytesPerSecond`.
    case drip(bytesPerSecond: UInt64)
    /// Answer with broken HTTP instead of the response, then close.
    case malformed(MalformedKind)
    /// Answer with this status and a short text body instead of the content.
    case status(Int)

    /// The fault the query asks for, nil when it asks for none.
    /// - Throws: `QueryError` naming the parameter that is missing or wrong.
    static func parse(_ query: [String: String]) throws(QueryError) -> Fault? {
        guard let name = query["fault"] else { return nil }
        switch name {
        case "reset": return .reset(at: try number(query, "at", default: 0))
        case "close": return .close(at: try number(query, "at", default: 0))
        case "stall":
            let ms = try number(query, "ms", default: 1000)
            return .stall(at: try number(query, "at", default: 0), duration: .milliseconds(Int64(clamping: ms)))
        case "drip":
            let rate = try number(query, "rate", default: 65536)
            guard rate > 0 else { throw QueryError("rate must be at least 1 byte/s") }
            return .drip(bytesPerSecond: rate)
        case "malformed":
            guard let kindName = query["kind"], let kind = MalformedKind(rawValue: kindName) else {
                throw QueryError("kind= must be one of \(MalformedKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .malformed(kind)
        case "status":
            let code = try number(query, "code", default: 500)
            guard (200...599).contains(code) else { throw QueryError("code must be 200-599") }
            return .status(Int(code))
        default:
            throw QueryError("unknown fault \(name.debugDescription): reset, close, stall, drip, malformed, status")
        }
    }
}

/// A query parameter the server cannot use; answered with 400 and this text.
struct QueryError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// `query[name]` as a decimal number, or `fallback` when absent.
/// - Throws: `QueryError` when present but not a decimal UInt64.
func number(_ query: [String: String], _ name: String, default fallback: UInt64) throws(QueryError) -> UInt64 {
    guard let text = query[name] else { return fallback }
    guard let value = decimal(text) else { throw QueryError("\(name)=\(text) is not a decimal number") }
    return value
}

/// The broken responses `fault=malformed&kind=...` sends; each trips one specific check of a
/// strict HTTP/1.1 client parser.
enum MalformedKind: String, CaseIterable {
    case badStatusLine, badHeader, obsFold, badContentLength, conflictingContentLength, badChunkSize
    case hugeHeader, garbage, truncatedHead

    /// The bytes to send before closing the connection.
    var bytes: [UInt8] {
        switch self {
        case .badStatusLine:
            return Array("HTTP/1.1_200_OK\r\nContent-Length: 2\r\n\r\nok".utf8)
        case .badHeader:
            return Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nThis-Line-Has-No-Colon\r\n\r\nok".utf8)
        case .obsFold:
            // A fold right after the status line: with no field to continue it is an error even
            // for a client that unfolds obs-fold as RFC 9112 §5.2 asks of user agents.
            return Array("HTTP/1.1 200 OK\r\n  continued\r\nX-Folded: first part\r\nContent-Length: 2\r\n\r\nok".utf8)
        case .badContentLength:
            return Array("HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\nok".utf8)
        case .conflictingContentLength:
            return Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok".utf8)
        case .badChunkSize:
            return Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n".utf8)
        case .hugeHeader:
            // 20 fields of 4,000 bytes: each line is within a parser's usual line limit and the
            // field count is small, so only the total head size (about 80 KB > 64 KiB) is wrong.
            var text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
            let filler = String(repeating: "x", count: 4000)
            for index in 0..<20 { text += "X-Filler-\(index): \(filler)\r\n" }
            return Array((text + "\r\nok").utf8)
        case .garbage:
            // Starts like a TLS record, then bytes no HTTP parser accepts as a status line.
            return [0x16, 0x03, 0x01, 0x00, 0x2a, 0x20] + Array("\u{7F}garbage not HTTP\r\n\r\n".utf8)
        case .truncatedHead:
            return Array("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nContent-Ty".utf8)
        }
    }
}

/// Remembers the `once=` tokens this server has seen, so a fault fires only on the first request
/// that carries its token. Bounded: the oldest tokens are forgotten past `capacity`.
///
/// Confined to the server loop's thread.
struct OnceTokens {
    let capacity: Int
    private var seen: Set<String> = []
    private var order: [String] = []
    private var oldest = 0

    /// Requests seen per `counter=` token (for `changeAfter=`), at most `capacity` tokens.
    private var counts: [String: Int] = [:]

    init(capacity: Int = 100_000) { self.capacity = capacity }

    /// Counts one more request carrying `token`. - Returns: how many there were, this one included.
    mutating func countRequest(_ token: String) -> Int {
        if counts[token] == nil && counts.count >= capacity { counts.removeAll() }
        let count = (counts[token] ?? 0) + 1
        counts[token] = count
        return count
    }

    /// Records `token`; true if this is the first time it is seen.
    mutating func firstSighting(_ token: String) -> Bool {
        guard seen.insert(token).inserted else { return false }
        if order.count < capacity {
            order.append(token)
        } else {
            seen.remove(order[oldest])
            order[oldest] = token
            oldest = (oldest + 1) % capacity
        }
        return true
    }
}
