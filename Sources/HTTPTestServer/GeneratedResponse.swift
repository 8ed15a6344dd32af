/// The `/gen/<size>` response, decided from the request before any byte is written: status,
/// fields, and which slice of the generated content the body carries, and how it is framed.
struct GeneratedResponse {
    /// The Last-Modified every generated "file" has unless `mtime=` says otherwise.
    static let defaultLastModified = "Sat, 01 Jan 2022 00:00:00 GMT"
    static let defaultChunkSize = 16384
    static let maxChunkSize = 16 << 20

    var status: Int
    var fields: [(name: String, value: String)]
    var seed: UInt64
    /// Content offset of the first body byte (the start of a range).
    var first: UInt64
    /// Body length in bytes (payload bytes when chunked).
    var length: UInt64
    var chunked: Bool
    var chunkSize: Int
    /// Whether the chunked body ends with a trailer field.
    var trailer: Bool
    /// `close=1`: answer with `Connection: close` and close after the body.
    var closeAfter: Bool

    /// Parses `/gen/<size>` and the query into a response, or a 400/416 when it asks for something
    /// impossible. The size accepts a `k`, `m` or `g` suffix (binary multiples).
    static func make(sizeText: Substring, head: RequestHead) -> Result<GeneratedResponse, SimpleResponseBox> {
        let query = head.query
        guard let size = parseSize(sizeText) else {
            return .failure(SimpleResponseBox(.text(400, "size \(String(sizeText).debugDescription) is not a byte count")))
        }
        let seed: UInt64
        let chunkSize: UInt64
        do {
            seed = try number(query, "seed", default: 1)
            chunkSize = try number(query, "chunk", default: UInt64(defaultChunkSize))
        } catch {
            return .failure(SimpleResponseBox(.text(400, error.message)))
        }
        guard chunkSize >= 1 && chunkSize <= UInt64(maxChunkSize) else {
            return .failure(SimpleResponseBox(.text(400, "chunk must be 1...\(maxChunkSize)")))
        }
        let etag = query["etag"].map(quotedETag) ?? "\"\(seed)-\(size)\""
        let lastModified = query["mtime"] ?? defaultLastModified
        let chunked = query["chunked"] == "1"
        let noRange = query["noRange"] == "1"

        var fields: [(name: String, value: String)] = [
            ("Content-Type", "application/octet-stream"),
            ("Accept-Ranges", noRange ? "none" : "bytes"),
        ]
        // `validators=0`: neither ETag nor Last-Modified, as many dynamic servers answer.
        let hasValidators = query["validators"] != "0"
        if hasValidators { fields += [("ETag", etag), ("Last-Modified", lastModified)] }
        // `cookie=VALUE`: a Set-Cookie header (control characters dropped), for clients that must hide it.
        if let cookie = query["cookie"] {
            fields.append(("Set-Cookie", String(cookie.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })))
        }
        if let name = query["name"] {
            // Quotes and backslashes would end the quoted-string early; drop them (RFC 6266 §4.1).
            let safe = String(name.unicodeScalars.filter { $0 != "\"" && $0 != "\\" && $0.value >= 0x20 && $0.value != 0x7F })
            fields.append(("Content-Disposition", "attachment; filename=\"\(safe)\""))
        }
        if let raw = query["disposition"], raw.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) {
            fields.append(("Content-Disposition", raw))  // as given: hostile names for the client to clean
        }

        // A conditional GET (RFC 9110 §13.1): If-None-Match (weak comparison) first, and only
        // without it If-Modified-Since; a match is 304 with the validators and no body.
        if hasValidators && head.method != "HEAD" && notModified(head, etag: etag, lastModified: lastModified) {
            return .failure(
                SimpleResponseBox(SimpleResponse(status: 304, fields: [("ETag", etag), ("Last-Modified", lastModified)])))
        }

        var status = 200
        var first: UInt64 = 0
        var length = size
        let decision =
            noRange
            ? .full
            : RangeDecision.evaluate(
                range: head.field("Range"), ifRange: hasValidators ? head.field("If-Range") : nil, size: size, etag: etag,
                lastModified: lastModified)
        switch decision {
        case .full where query["lie"] == "206" && size > 0:
            // A lying server: a part nobody asked for, as if it were one.
            status = 206
            length = size
            fields.append(("Content-Range", "bytes 0-\(size - 1)/\(size)"))
        case .full:
            break
        case .partial(let from, let to):
            status = 206
            first = from
            length = to - from + 1
            fields.append(("Content-Range", "bytes \(from)-\(to)/\(size)"))
        case .unsatisfiable:
            var response = SimpleResponse.text(416, "the range is outside 0..<\(size)")
            response.fields += [("Content-Range", "bytes */\(size)"), ("ETag", etag), ("Last-Modified", lastModified)]
            return .failure(SimpleResponseBox(response))
        }
        let trailer = chunked && query["trailer"] == "1"
        if chunked {
            fields.append(("Transfer-Encoding", "chunked"))
            if trailer { fields.append(("Trailer", "X-Generated-Length")) }
        } else {
            fields.append(("Content-Length", String(length)))
        }
        return .success(
            GeneratedResponse(
                status: status, fields: fields, seed: seed, first: first, length: length, chunked: chunked,
                chunkSize: Int(chunkSize), trailer: trailer, closeAfter: query["close"] == "1"))
    }

    /// Whether the request's conditions say the client's copy is current: an If-None-Match
    /// listing `etag` (or `*`), compared weakly (a `W/` prefix ignored); without If-None-Match,
    /// an If-Modified-Since at or after `lastModified`. A date that does not parse is ignored.
    static func notModified(_ head: RequestHead, etag: String, lastModified: String) -> Bool {
        if let tags = head.field("If-None-Match") {
            func opaque(_ tag: Substring) -> Substring {
                let trimmed = tag.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
                let text = Substring(trimmed)
                return text.hasPrefix("W/") ? text.dropFirst(2) : text
            }
            return tags.split(separator: ",").contains { opaque($0) == "*" || opaque($0) == opaque(Substring(etag)) }
        }
        guard let since = head.field("If-Modified-Since").flatMap(imfFixdateKey), let modified = imfFixdateKey(lastModified) else {
            return false
        }
        return since >= modified
    }

    /// "Sun, 06 Nov 1994 08:49:37 GMT" as a number that orders as the instants do
    /// (YYYYMMDDhhmmss), nil for any other form: the server only needs to compare.
    static func imfFixdateKey(_ text: String) -> UInt64? {
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", let day = UInt64(parts[1]), let month = months.firstIndex(of: String(parts[2])),
            let year = UInt64(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { UInt64($0) }
        guard clock.count == 3 else { return nil }
        return ((((year * 100 + UInt64(month + 1)) * 100 + day) * 100 + clock[0]) * 100 + clock[1]) * 100 + clock[2]
    }

    /// `etag=abc` becomes `"abc"`; a value already quoted (or weak, `W/"..."`) is kept.
    static func quotedETag(_ value: String) -> String {
        value.hasPrefix("\"") || value.hasPrefix("W/") ? value : "\"\(value)\""
    }

    static func parseSize(_ text: Substring) -> UInt64? {
        var digits = text
        var multiplier: UInt64 = 1
        switch text.last {
        case "k", "K": multiplier = 1 << 10
        case "m", "M": multiplier = 1 << 20
        case "g", "G": multiplier = 1 << 30
        default: break
        }
        if multiplier > 1 { digits = digits.dropLast() }
        guard let value = decimal(String(digits)) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}

/// Lets a `SimpleResponse` travel as the failure of a `Result` (which needs an `Error`).
struct SimpleResponseBox: Error {
    let response: SimpleResponse
    init(_ response: SimpleResponse) { self.response = response }
}
