/// A `Range` request's single byte range (RFC 9110 §14.1.2).
public enum ByteRange: Sendable, Hashable, CustomStringConvertible {
    /// From `start` to the end: `bytes=start-` (resuming a download).
    case from(UInt64)
    /// `first` through `last`, inclusive: `bytes=first-last` (one segment of a split download).
    case bounded(first: UInt64, last: UInt64)
    /// The last `count` bytes: `bytes=-count`.
    case suffix(UInt64)

    /// The header value.
    public var headerValue: String {
        switch self {
        case .from(let start): return "bytes=\(start)-"
        case .bounded(let first, let last): return "bytes=\(first)-\(last)"
        case .suffix(let count): return "bytes=-\(count)"
        }
    }

    /// The `Range` header value (`bytes=0-99`).
    public var description: String { headerValue }
}

/// Makes a `Range` conditional (`If-Range`): the server sends the range only if the resource
/// still has this validator, and the whole resource (200) if it changed.
public enum IfRangeValidator: Sendable, Hashable {
    /// A strong ETag, quotes included, as the server sent it.
    case etag(String)
    /// The `Last-Modified` value, as the server sent it.
    case lastModified(String)

    var headerValue: String {
        switch self {
        case .etag(let value), .lastModified(let value): return value
        }
    }
}

/// A 206 response's `Content-Range: bytes first-last/complete`.
public struct ContentRange: Sendable, Hashable, CustomStringConvertible {
    /// The first byte's offset in the resource.
    public var first: UInt64
    /// The last byte's offset, inclusive; at least `first` when parsed.
    public var last: UInt64
    /// The whole resource's length, nil for `*`.
    public var completeLength: UInt64?

    /// The number of bytes in the range.
    public var count: UInt64 { last - first + 1 }

    /// The header value: `bytes first-last/complete`, `*` for an unknown complete length.
    public var description: String { "bytes \(first)-\(last)/\(completeLength.map(String.init) ?? "*")" }

    /// Parses `bytes first-last/complete` (or `/*`).
    /// - Throws: `HTTPClientError.invalidContentRange` naming the value.
    public init(parsing value: String) throws {
        let bad = HTTPClientError.invalidContentRange("malformed Content-Range \(value.debugDescription)")
        guard value.hasPrefix("bytes ") else { throw bad }
        let spec = value.dropFirst(6)
        let halves = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2 else { throw bad }
        let bounds = halves[0].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Self.number(bounds[0]), let last = Self.number(bounds[1]), first <= last else { throw bad }
        var complete: UInt64?
        if halves[1] != "*" {
            guard let length = Self.number(halves[1]), last < length else { throw bad }
            complete = length
        }
        self.first = first
        self.last = last
        completeLength = complete
    }

    /// `bytes */complete` in a 416 response.
    static func unsatisfiedLength(_ value: String) -> UInt64? {
        guard value.hasPrefix("bytes */") else { return nil }
        return number(value.dropFirst(8))
    }

    private static func number(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.count <= 19, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(text)
    }

    /// Checks that this is the range `requested` asked for.
    /// - Throws: `HTTPClientError.invalidContentRange` saying what differs.
    func validate(against requested: ByteRange) throws {
        let matches: Bool
        switch requested {
        case .from(let start): matches = first == start
        case .bounded(let start, let end): matches = first == start && last <= end
        case .suffix(let n): matches = count <= n && (completeLength.map { last == $0 - 1 } ?? true)
        }
        if !matches {
            throw HTTPClientError.invalidContentRange("asked for \(requested.headerValue), got \(description)")
        }
    }
}
