/// A parsed HTTP/1.x request head: request line and header fields.
struct RequestHead: Sendable {
    var method: String
    /// The request target as sent (origin form, or absolute form for a proxy-style request).
    var target: String
    /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    var minorVersion: Int
    /// Fields in the order received, names as sent.
    var fields: [(name: String, value: String)]
    /// The path part of the target, not percent-decoded (routes are plain ASCII).
    var path: String
    /// Query parameters, values percent-decoded; the last occurrence of a name wins.
    var query: [String: String]
    /// The request line as received, for /echo.
    var requestLine: String

    /// The first field named `name` (case-insensitive).
    func field(_ name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    /// Every field named `name` (case-insensitive), in order.
    func fields(named name: String) -> [String] {
        let wanted = name.lowercased()
        return fields.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`.
    var wantsKeepAlive: Bool {
        let options = fields(named: "Connection").flatMap { $0.split(separator: ",") }.map { trimmed($0).lowercased() }
        if options.contains("close") { return false }
        return minorVersion >= 1 || options.contains("keep-alive")
    }
}

/// Why a request head was refused; each maps to the status the server answers with.
enum RequestHeadError: Error, Equatable {
    /// 400: the request line or a field is not valid HTTP/1.1.
    case malformed(String)
    /// 505: a version other than HTTP/1.0 or HTTP/1.1.
    case unsupportedVersion(String)

    var status: Int {
        switch self {
        case .malformed: return 400
        case .unsupportedVersion: return 505
        }
    }

    var detail: String {
        switch self {
        case .malformed(let why): return why
        case .unsupportedVersion(let version): return "unsupported version \(version)"
        }
    }
}

extension RequestHead {
    /// Parses a head: the bytes up to, not including, the empty line that ends it.
    /// Lines end in CRLF or a bare LF (RFC 9112 §2.2); anything else doubtful is refused, since a
    /// test server that accepts nonsense would hide client bugs.
    /// - Throws: `RequestHeadError`.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(RequestHeadError) -> RequestHead {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
        // Tolerate empty lines before the request line (RFC 9112 §2.2: SHOULD ignore one).
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLineBytes = lines.first else { throw .malformed("empty request") }
        for line in lines where line.contains(UInt8(ascii: "\r")) { throw .malformed("bare CR") }

        let requestLine = String(decoding: requestLineBytes, as: UTF8.self)
        let parts = requestLineBytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("request line is not 'METHOD target HTTP/1.x'") }
        guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else { throw .malformed("bad method") }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .malformed("bad target") }
        let version = String(decoding: parts[2], as: UTF8.self)
        let minor: Int
        switch version {
        case "HTTP/1.1": minor = 1
        case "HTTP/1.0": minor = 0
        default:
            guard version.hasPrefix("HTTP/"), version.count == 8 else { throw .malformed("bad version \(version)") }
            throw .unsupportedVersion(version)
        }

        var fields: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let first = line.first, first != 0x20 && first != 0x09 else { throw .malformed("obsolete line folding") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformed("field without ':'") }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw .malformed("bad field name") }
            var value = line[(colon + 1)...]
            while let b = value.first, b == 0x20 || b == 0x09 { value = value.dropFirst() }
            while let b = value.last, b == 0x20 || b == 0x09 { value = value.dropLast() }
            guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { throw .malformed("bad field value") }
            fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }

        let target = String(decoding: parts[1], as: UTF8.self)
        let (path, query) = splitTarget(target)
        return RequestHead(
            method: String(decoding: parts[0], as: UTF8.self), target: target, minorVersion: minor,
            fields: fields, path: path, query: query, requestLine: requestLine)
    }
}

/// Splits a request target into its path and its decoded query parameters. An absolute-form
/// target (`http://host/path`) is reduced to its path.
func splitTarget(_ target: String) -> (path: String, query: [String: String]) {
    var rest = Substring(target)
    if let scheme = rest.firstRange(of: "://") {
        let afterAuthority = rest[scheme.upperBound...]
        rest = afterAuthority.firstIndex(of: "/").map { afterAuthority[$0...] } ?? "/"
    }
    if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
    guard let mark = rest.firstIndex(of: "?") else { return (String(rest), [:]) }
    var query: [String: String] = [:]
    for pair in rest[rest.index(after: mark)...].split(separator: "&") {
        let nameAndValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = percentDecoded(nameAndValue[0])
        query[name] = nameAndValue.count > 1 ? percentDecoded(nameAndValue[1]) : ""
    }
    return (String(rest[..<mark]), query)
}

/// Percent-decodes `text` (and `+` as a space, as forms encode it). An invalid escape is kept as is.
func percentDecoded(_ text: Substring) -> String {
    let bytes = Array(text.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
        let byte = bytes[index]
        if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
            let high = hexDigit(bytes[index + 1]), let low = hexDigit(bytes[index + 2])
        {
            out.append(high << 4 | low)
            index += 3
        } else {
            out.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
            index += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}

/// RFC 9110 token characters.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
        UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
        UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default: return false
    }
}

/// `text` without leading and trailing spaces and tabs.
func trimmed(_ text: Substring) -> String {
    var slice = text
    while let c = slice.first, c == " " || c == "\t" { slice = slice.dropFirst() }
    while let c = slice.last, c == " " || c == "\t" { slice = slice.dropLast() }
    return String(slice)
}
