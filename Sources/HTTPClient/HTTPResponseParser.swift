#if canImport(Glibc)
    import Glibc
#endif

/// Limits that keep a hostile or broken peer from making the parser grow without bound.
public struct HTTPParserLimits: Sendable, Equatable {
    /// The longest status, header, chunk-size or trailer line, in bytes.
    public var maxLineLength: Int
    /// The largest header section (status line and fields), in bytes.
    public var maxHeaderBytes: Int
    /// The most header fields (and, separately, trailer fields).
    public var maxHeaderCount: Int

    /// Limits in bytes and fields; the defaults (8 KiB lines, a 64 KiB head, 100 fields) are
    /// generous for real servers and bound what a hostile head can make the parser hold.
    public init(maxLineLength: Int = 8 << 10, maxHeaderBytes: Int = 64 << 10, maxHeaderCount: Int = 100) {
        self.maxLineLength = maxLineLength
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
    }
}

/// A response's status line and header fields.
public struct HTTPResponseHead: Sendable, Equatable {
    /// "HTTP/1.1" or "HTTP/1.0".
    public var version: String
    /// The status code, 100-599 (always final here: the parser skips 1xx heads).
    public var status: Int
    /// The reason phrase as sent (possibly empty): shown in messages, never decided on.
    public var reason: String
    /// The header fields, in order, names as sent (obs-fold continuations joined by one space).
    public var headers: HTTPHeaders
    /// Whether the connection may carry another request after this response.
    public var keepAlive: Bool
    /// The announced body length: the `Content-Length` the parser framed the body by (for a
    /// HEAD, 204 or 304 response, a valid one it did not need), parsed once, by the parser.
    /// Nil without one, for a chunked body, or beyond `Int.max`.
    public var contentLength: Int?
}

extension HTTPResponseHead {
    /// A head made by hand (tests): `contentLength` by the parser's rule for its fields. (In an
    /// extension so that the memberwise init, the parser's, is still synthesized.)
    init(version: String, status: Int, reason: String, headers: HTTPHeaders, keepAlive: Bool) {
        self.init(
            version: version, status: status, reason: reason, headers: headers, keepAlive: keepAlive,
            contentLength: HTTPResponseParser.announcedLength(in: headers).flatMap { Int(exactly: $0) })
    }
}

/// What the parser found in the bytes it was fed.
public enum HTTPResponseEvent: Sendable, Equatable {
    /// The final (non-1xx) response head.
    case head(HTTPResponseHead)
    /// Body bytes, de-chunked.
    case body([UInt8])
    /// The end of the message, with trailer fields (empty unless chunked with trailers).
    case end(trailers: HTTPHeaders)
}

/// A sans-I/O HTTP/1.1 response parser (RFC 9112): it owns no socket. Feed it bytes as they
/// arrive and it returns events; both client engines use it, so both accept and reject exactly
/// the same bytes. Every malformed input throws an `HTTPParseError` that names the problem.
public struct HTTPResponseParser: Sendable {
    private enum State: Equatable {
        case statusLine
        case headers(informational: Bool)
        case fixedBody(remaining: UInt64)
        case untilClose
        case chunkSize
        case chunkData(remaining: UInt64)
        case chunkDataEnd
        case trailers
        case done
    }

    private enum Framing {
        case none
        case length(UInt64)
        case chunked, untilClose
    }

    /// The bounds the parser enforces, as given to `init`.
    public let limits: HTTPParserLimits
    private let isHeadRequest: Bool
    private var state = State.statusLine
    private var buffer: [UInt8] = []
    private var position = 0
    private var headerBytes = 0
    private var version = ""
    private var status = 0
    private var reason = ""
    private var fields = HTTPHeaders()
    /// Empty lines seen where the current status line is expected.
    private var emptyLinesBeforeStatusLine = 0
    /// Interim (1xx) responses skipped so far.
    private var interimResponses = 0
    /// Interim (1xx) responses seen so far: a 100 Continue is one.
    public var interimResponseCount: Int { interimResponses }

    /// Empty lines (CRLF or a bare LF) ignored before each status line. RFC 9112 §2.2 asks
    /// this of a server before a request-line ("SHOULD ignore at least one empty line (CRLF)
    /// received prior to the request-line"); the same robustness on the client side covers a
    /// server that pads after a 1xx or after its previous response on the connection, as
    /// llhttp does. A few, not any number: one more is a malformed status line.
    public static let maxEmptyLinesBeforeStatusLine = 4
    /// Interim (1xx) responses skipped before the final one; one more throws
    /// `tooManyInterimResponses`, so an endless stream of 1xx cannot hold a request forever.
    public static let maxInterimResponses = 10
    /// Room reserved for a head's fields (servers send 6 to 12): one allocation, not a regrown
    /// array per head.
    static let expectedFieldCount = 16

    /// - Parameters:
    ///   - requestMethod: the method of the request this response answers (a HEAD response has no body).
    ///   - limits: the bounds on lines and header sections.
    public init(requestMethod: String = "GET", limits: HTTPParserLimits = HTTPParserLimits()) {
        isHeadRequest = HTTPHeaders.namesMatch(requestMethod, "HEAD")
        self.limits = limits
    }

    /// True once the whole message has been parsed.
    public var isComplete: Bool { state == .done }

    /// Parses more bytes. - Returns: the events they complete.
    /// - Throws: `HTTPParseError`; after an error the parser must not be used again.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws -> [HTTPResponseEvent] {
        if state == .done {
            if bytes.isEmpty { return [] }
            throw HTTPParseError.dataAfterEndOfMessage
        }
        buffer.append(contentsOf: bytes)
        var events: [HTTPResponseEvent] = []
        while try step(&events) {}
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        return events
    }

    /// How many bytes the caller may read from the connection straight into its own buffer as
    /// body, without feeding them: non-zero only inside a body with nothing buffered. Lets an
    /// engine receive a large body with no copy through the parser.
    public var directBodyLimit: Int {
        guard position == buffer.count else { return 0 }
        switch state {
        case .fixedBody(let remaining), .chunkData(let remaining): return Int(clamping: remaining)
        case .untilClose: return Int.max
        default: return 0
        }
    }

    /// Accounts for `count` body bytes (at most `directBodyLimit`) that the caller read itself.
    /// - Returns: `.end` when they complete a `Content-Length` body, else nil.
    public mutating func consumeDirectBody(_ count: Int) -> HTTPResponseEvent? {
        precondition(count >= 0 && count <= directBodyLimit, "more body bytes than directBodyLimit allows")
        switch state {
        case .fixedBody(let remaining):
            if UInt64(count) == remaining {
                state = .done
                return .end(trailers: HTTPHeaders())
            }
            state = .fixedBody(remaining: remaining - UInt64(count))
        case .chunkData(let remaining):
            state = UInt64(count) == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - UInt64(count))
        default:
            break
        }
        return nil
    }

    /// The peer closed the connection. - Parameter incompleteClose: the close was not
    /// authenticated (TLS without close_notify): it cannot end a body delimited by the close,
    /// only say that it stopped. - Returns: the events that completes (the end of a body
    /// delimited by the close). - Throws: `HTTPParseError.truncated` if the message was not complete.
    public mutating func finish(incompleteClose: Bool = false) throws -> [HTTPResponseEvent] {
        switch state {
        case .done:
            return []
        case .untilClose:
            // RFC 9112 §9.8: after an incomplete close a client treats as complete only a
            // Content-Length body received in full or a chunked one up to its last chunk.
            if incompleteClose {
                throw HTTPParseError.truncated("the TLS connection ended without close_notify; the body may be cut short")
            }
            state = .done
            return [.end(trailers: HTTPHeaders())]
        case .statusLine where buffer.isEmpty && headerBytes == 0:
            throw HTTPParseError.truncated("no response")
        case .statusLine, .headers:
            throw HTTPParseError.truncated("in the response head")
        case .fixedBody(let remaining):
            throw HTTPParseError.truncated("\(remaining) body bytes missing")
        case .chunkSize, .chunkData, .chunkDataEnd, .trailers:
            throw HTTPParseError.truncated("in the chunked body")
        }
    }

    /// One step of the state machine; false when it needs more bytes.
    private mutating func step(_ events: inout [HTTPResponseEvent]) throws -> Bool {
        switch state {
        case .done:
            if position < buffer.count { throw HTTPParseError.dataAfterEndOfMessage }
            return false
        case .statusLine:
            guard let line = try nextLine(countingTowardHead: true) else { return false }
            if line.isEmpty {
                // RFC 9112 §2.2's robustness rule for a request-line, applied to the status
                // line within a bound (see `maxEmptyLinesBeforeStatusLine`).
                emptyLinesBeforeStatusLine += 1
                guard emptyLinesBeforeStatusLine <= Self.maxEmptyLinesBeforeStatusLine else {
                    throw HTTPParseError.malformedStatusLine("")
                }
                return true
            }
            emptyLinesBeforeStatusLine = 0
            try parseStatusLine(line)
            let informational = (100..<200).contains(status)
            if informational {
                interimResponses += 1
                guard interimResponses <= Self.maxInterimResponses else {
                    throw HTTPParseError.tooManyInterimResponses(limit: Self.maxInterimResponses)
                }
            }
            fields = HTTPHeaders(capacity: Self.expectedFieldCount)
            state = .headers(informational: informational)
            return true
        case .headers(let informational):
            guard let line = try nextLine(countingTowardHead: true) else { return false }
            if !line.isEmpty {
                try parseField(line)
                return true
            }
            if informational {
                if status == 101 { throw HTTPParseError.switchingProtocolsNotRequested }
                state = .statusLine  // 1xx: skip it, the final response follows
                headerBytes = 0
                return true
            }
            try startBody(&events)
            return true
        case .fixedBody(let remaining):
            guard let left = emitBody(upTo: remaining, &events) else { return false }
            if left == 0 {
                state = .done
                events.append(.end(trailers: HTTPHeaders()))
            } else {
                state = .fixedBody(remaining: left)
            }
            return true
        case .untilClose:
            guard position < buffer.count else { return false }
            events.append(.body(Array(buffer[position...])))
            position = buffer.count
            return false
        case .chunkSize:
            guard let line = try nextLine(countingTowardHead: false) else { return false }
            let size = try parseChunkSize(line)
            state = size == 0 ? .trailers : .chunkData(remaining: size)
            fields = HTTPHeaders()
            return true
        case .chunkData(let remaining):
            guard let left = emitBody(upTo: remaining, &events) else { return false }
            state = left == 0 ? .chunkDataEnd : .chunkData(remaining: left)
            return true
        case .chunkDataEnd:
            guard let line = try nextLine(countingTowardHead: false) else { return false }
            guard line.isEmpty else { throw HTTPParseError.malformedChunk("chunk data not followed by CRLF") }
            state = .chunkSize
            return true
        case .trailers:
            guard let line = try nextLine(countingTowardHead: false) else { return false }
            if !line.isEmpty {
                try parseField(line)
                return true
            }
            state = .done
            events.append(.end(trailers: fields))
            return true
        }
    }

    // MARK: - Lines

    /// The next line without its terminator (CRLF, or a bare LF as RFC 9112 §2.2 allows),
    /// or nil if it has not all arrived.
    /// Emits the buffered body bytes, up to `remaining` of them, as one `.body` event.
    /// - Returns: what is left of `remaining` after them; nil when no byte is buffered.
    @inline(__always)
    private mutating func emitBody(upTo remaining: UInt64, _ events: inout [HTTPResponseEvent]) -> UInt64? {
        let available = buffer.count - position
        guard available > 0 else { return nil }
        let take = Int(min(UInt64(available), remaining))
        events.append(.body(Array(buffer[position..<(position + take)])))
        position += take
        return remaining - UInt64(take)
    }

    private mutating func nextLine(countingTowardHead: Bool) throws -> ArraySlice<UInt8>? {
        let start = position
        let found: Int? = buffer.withUnsafeBytes { raw in
            // non-empty here
            guard start < raw.count, let hit = memchr(raw.baseAddress! + start, 0x0A, raw.count - start) else { return nil }
            return raw.baseAddress!.distance(to: UnsafeRawPointer(hit))
        }
        guard let newline = found else {
            try checkLimits(available: buffer.count - position, countingTowardHead: countingTowardHead)
            return nil
        }
        let length = newline - position + 1
        try checkLimits(available: length, countingTowardHead: countingTowardHead)
        if countingTowardHead { headerBytes += length }
        var end = newline
        if end > position && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = buffer[position..<end]
        if line.contains(UInt8(ascii: "\r")) { throw HTTPParseError.bareCarriageReturn }
        position = newline + 1
        return line
    }

    /// Throws the limit error that the `available` bytes of the line at `position` (all of it
    /// when they end with its LF) already prove. The error is the one proven at the earlier
    /// byte, so it does not depend on how the bytes were split into feeds: a line whose end has
    /// not arrived fails exactly as it will once it has (the fuzzer's differential invariant).
    /// The line limit counts the line without its CRLF (or bare LF): a CR is not yet proof of
    /// a long line while its LF may be the next byte.
    private func checkLimits(available: Int, countingTowardHead: Bool) throws {
        let maxLine = limits.maxLineLength
        var lineProof: Int?  // the index, from `position`, of the byte that proves the line too long
        if available > maxLine {
            switch buffer[position + maxLine] {
            case 0x0A: break  // the LF: exactly maxLine bytes in the line
            case 0x0D:
                // A CR counts only if the byte after it is not the LF.
                if available > maxLine + 1 && buffer[position + maxLine + 1] != 0x0A { lineProof = maxLine + 1 }
            default: lineProof = maxLine
            }
        }
        var headProof: Int?  // the index of the first byte beyond the header section's limit
        if countingTowardHead && headerBytes + available > limits.maxHeaderBytes { headProof = limits.maxHeaderBytes - headerBytes }
        if let lineProof, lineProof <= headProof ?? .max { throw HTTPParseError.lineTooLong(limit: maxLine) }
        if headProof != nil { throw HTTPParseError.headersTooLarge(limit: limits.maxHeaderBytes) }
    }

    // MARK: - Head

    private mutating func parseStatusLine(_ line: ArraySlice<UInt8>) throws {
        let text = String(decoding: line, as: UTF8.self)
        guard let firstSpace = line.firstIndex(of: UInt8(ascii: " ")) else {
            throw HTTPParseError.malformedStatusLine(text)
        }
        let versionBytes = line[line.startIndex..<firstSpace]
        let versionText = String(decoding: versionBytes, as: UTF8.self)
        guard versionBytes.starts(with: Array("HTTP/".utf8)) else { throw HTTPParseError.malformedStatusLine(text) }
        guard versionText == "HTTP/1.1" || versionText == "HTTP/1.0" else {
            throw HTTPParseError.unsupportedVersion(versionText)
        }
        let rest = line[(firstSpace + 1)...]
        let codeBytes = rest.prefix(3)
        let codeText = String(decoding: codeBytes, as: UTF8.self)
        guard codeBytes.count == 3, codeBytes.allSatisfy(isDigit), let code = Int(codeText), (100...599).contains(code) else {
            throw HTTPParseError.invalidStatusCode(codeText)
        }
        let afterCode = rest.dropFirst(3)
        var reasonBytes = afterCode
        if let first = afterCode.first {
            guard first == UInt8(ascii: " ") else {
                throw HTTPParseError.invalidStatusCode(String(decoding: rest.prefix(4), as: UTF8.self))
            }
            reasonBytes = afterCode.dropFirst()
        }
        guard reasonBytes.allSatisfy({ $0 == 0x09 || $0 >= 0x20 && $0 != 0x7F }) else {
            throw HTTPParseError.malformedStatusLine(text)
        }
        version = versionText
        status = code
        reason = String(decoding: reasonBytes, as: UTF8.self)
    }

    /// Adds the field on `line` to `fields`. Mutating, not `inout` on `fields`: a non-mutating
    /// method given `&fields` would copy `self`, and with it share the array, so every append
    /// would copy the fields so far.
    private mutating func parseField(_ line: ArraySlice<UInt8>) throws {
        guard let first = line.first, first != 0x20 && first != 0x09 else {
            try unfold(line)
            return
        }
        guard fields.count < limits.maxHeaderCount else { throw HTTPParseError.tooManyHeaders(limit: limits.maxHeaderCount) }
        // One pass over raw bytes (no generic slice iteration): this runs for every field of
        // every response.
        let field: (name: String, value: String) = try line.withUnsafeBufferPointer { bytes in
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
                throw HTTPParseError.malformedHeaderLine(String(decoding: bytes, as: UTF8.self))
            }
            let nameBytes = UnsafeBufferPointer(rebasing: bytes[0..<colon])
            if let last = nameBytes.last, last == 0x20 || last == 0x09 {
                throw HTTPParseError.whitespaceBeforeColon(String(decoding: nameBytes, as: UTF8.self))
            }
            var validName = !nameBytes.isEmpty
            for byte in nameBytes where !isTokenCharacter(byte) { validName = false }
            guard validName else { throw HTTPParseError.invalidHeaderName(String(decoding: nameBytes, as: UTF8.self)) }
            var start = colon + 1
            var end = bytes.count
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            var index = start
            while index < end {
                let byte = bytes[index]
                guard byte == 0x09 || (byte >= 0x20 && byte != 0x7F) else {
                    throw HTTPParseError.invalidHeaderValue(name: String(decoding: nameBytes, as: UTF8.self))
                }
                index += 1
            }
            return (
                String(decoding: nameBytes, as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            )
        }
        fields.add(name: field.name, value: field.value)
    }

    /// A line that starts with SP or HTAB continues the previous field (obs-fold): "A user
    /// agent that receives an obs-fold in a response message ... MUST replace each received
    /// obs-fold with one or more SP octets prior to interpreting the field value" (RFC 9112
    /// §5.2). The continuation joins the previous value after one SP. The line and header
    /// section limits still bound it; with no previous field it is an error.
    private mutating func unfold(_ line: ArraySlice<UInt8>) throws {
        guard let previous = fields.fields.last else { throw HTTPParseError.obsoleteLineFolding }
        var start = line.startIndex
        var end = line.endIndex
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        let continuation = line[start..<end]
        guard continuation.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw HTTPParseError.invalidHeaderValue(name: previous.name)
        }
        fields.appendToLastValue(String(decoding: continuation, as: UTF8.self))
    }

    // MARK: - Body framing (RFC 9112 §6.3)

    private mutating func startBody(_ events: inout [HTTPResponseEvent]) throws {
        let framing = try bodyFraming()
        var keepAlive = version == "HTTP/1.1"
        let connection = fields["Connection"].flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: " \t").lowercased()
        }
        if connection.contains("close") { keepAlive = false }
        if version == "HTTP/1.0" && connection.contains("keep-alive") { keepAlive = true }
        if case .untilClose = framing { keepAlive = false }
        // "A server or client that receives an HTTP/1.0 message containing a Transfer-Encoding
        // header field MUST treat the message as if the framing is faulty, even if a
        // Content-Length is present, and close the connection after processing the message"
        // (RFC 9112 §6.1). The version test first: it keeps the common path free of lookups.
        if version == "HTTP/1.0" && fields.first("Transfer-Encoding") != nil { keepAlive = false }
        // Transfer-Encoding together with Content-Length may be an attempt at request smuggling:
        // Transfer-Encoding wins, and the connection is not reused (RFC 9112 §6.3).
        if case .chunked = framing, !fields["Content-Length"].isEmpty { keepAlive = false }
        let announced: UInt64?
        switch framing {
        case .length(let length): announced = length
        case .none: announced = Self.announcedLength(in: fields)  // HEAD, 204, 304: what the resource would have
        case .chunked, .untilClose: announced = nil
        }
        events.append(
            .head(
                HTTPResponseHead(
                    version: version, status: status, reason: reason, headers: fields, keepAlive: keepAlive,
                    contentLength: announced.flatMap { Int(exactly: $0) })))
        switch framing {
        case .none, .length(0):
            state = .done
            events.append(.end(trailers: HTTPHeaders()))
        case .length(let length):
            state = .fixedBody(remaining: length)
        case .chunked:
            state = .chunkSize
        case .untilClose:
            state = .untilClose
        }
    }

    /// The length that the `Content-Length` fields of `fields` announce, by the framing rules
    /// (one value, or equal repeated ones; digits only, no overflow), ignoring Transfer-Encoding;
    /// nil when there is none or it is invalid.
    static func announcedLength(in fields: HTTPHeaders) -> UInt64? {
        let lengths = contentLengthValues(in: fields)
        guard let first = lengths.first, lengths.allSatisfy({ $0 == first }) else { return nil }
        return parseDecimal(first)
    }

    /// Every value of every Content-Length field, trimmed (a list splits on commas).
    private static func contentLengthValues(in fields: HTTPHeaders) -> [String] {
        fields["Content-Length"].flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map {
            $0.trimmingCharacters(in: " \t")
        }
    }

    private func bodyFraming() throws -> Framing {
        if isHeadRequest || status == 204 || status == 304 { return .none }
        // The common case first, without building arrays: one plain Content-Length and no
        // Transfer-Encoding. Anything else takes the full checks below.
        var lengthValue: String?
        var lengthCount = 0
        var hasTransferEncoding = false
        for field in fields.fields {
            if HTTPHeaders.namesMatch(field.name, "Content-Length") {
                lengthCount += 1
                lengthValue = field.value
            } else if HTTPHeaders.namesMatch(field.name, "Transfer-Encoding") {
                hasTransferEncoding = true
            }
        }
        if !hasTransferEncoding, lengthCount == 1, let lengthValue, let length = parseDecimal(lengthValue) {
            return .length(length)
        }
        let codings = fields["Transfer-Encoding"].flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: " \t").lowercased()
        }
        // A Transfer-Encoding field with no coding in it is no framing at all, not "absent"
        // (RFC 9112 §6.1: Transfer-Encoding = #transfer-coding, and §6.3 rule 4: chunked
        // must be the final coding): refused like any coding other than a lone chunked.
        if hasTransferEncoding {
            guard codings == ["chunked"] else {
                throw HTTPParseError.unsupportedTransferEncoding(fields["Transfer-Encoding"].joined(separator: ", "))
            }
            return .chunked
        }
        let lengths = Self.contentLengthValues(in: fields)
        guard let first = lengths.first else { return .untilClose }
        guard lengths.allSatisfy({ $0 == first }) else { throw HTTPParseError.conflictingContentLengths(lengths) }
        guard let length = parseDecimal(first) else { throw HTTPParseError.invalidContentLength(first) }
        return .length(length)
    }

    /// chunk-size [ chunk-ext ], strictly (RFC 9112 §7.1.1):
    ///     chunk-size = 1*HEXDIG
    ///     chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    ///     chunk-ext-name = token; chunk-ext-val = token / quoted-string
    /// Whitespace is allowed only where the grammar has BWS, so whitespace after the size with
    /// no extension ("25  ") is refused, as llhttp's strict mode does. Extensions are checked,
    /// then ignored. Every violation is `invalidChunkSize` with the whole line.
    private func parseChunkSize(_ line: ArraySlice<UInt8>) throws -> UInt64 {
        let size: UInt64? = line.withUnsafeBufferPointer { bytes in
            var index = 0
            var size: UInt64 = 0
            while index < bytes.count, let digit = hexValue(bytes[index]) {
                guard size >> 60 == 0 else { return nil }  // a 17th significant digit overflows
                size = size << 4 | UInt64(digit)
                index += 1
            }
            guard index > 0, index == bytes.count || chunkExtensionsAreValid(bytes, from: index) else { return nil }
            return size
        }
        guard let size else { throw HTTPParseError.invalidChunkSize(String(decoding: line, as: UTF8.self)) }
        return size
    }
}

/// Whether `bytes[start...]` is a well-formed chunk-ext (see `parseChunkSize`).
private func chunkExtensionsAreValid(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
    var index = start
    func skipWhitespace() { while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 } }
    while index < bytes.count {
        skipWhitespace()  // BWS ";"
        guard index < bytes.count, bytes[index] == UInt8(ascii: ";") else { return false }
        index += 1
        skipWhitespace()  // ";" BWS chunk-ext-name
        let nameStart = index
        while index < bytes.count, isTokenCharacter(bytes[index]) { index += 1 }
        guard index > nameStart else { return false }
        // BWS "=" only if a value follows; whitespace then ";" is the next extension's BWS.
        var afterName = index
        while afterName < bytes.count, bytes[afterName] == 0x20 || bytes[afterName] == 0x09 { afterName += 1 }
        guard afterName < bytes.count, bytes[afterName] == UInt8(ascii: "=") else { continue }
        index = afterName + 1
        skipWhitespace()  // "=" BWS chunk-ext-val
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "\"") {
            // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4)
            index += 1
            var closed = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    closed = true
                    break
                }
                if byte == UInt8(ascii: "\\") {  // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                    index += 1
                    guard index < bytes.count else { return false }
                }
                // qdtext and the escaped octet: HTAB, SP, VCHAR, obs-text.
                guard bytes[index] == 0x09 || (bytes[index] >= 0x20 && bytes[index] != 0x7F) else { return false }
                index += 1
            }
            guard closed else { return false }
        } else {
            let valueStart = index
            while index < bytes.count, isTokenCharacter(bytes[index]) { index += 1 }
            guard index > valueStart else { return false }
        }
    }
    return true

}

private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}

/// RFC 9110 token characters.
private func isTokenCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    // ! # $ % & ' * + - . ^ _ ` | ~ (RFC 9110 §5.6.2), spelled out: no array per call.
    case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
    default: return false
    }
}

/// Digits only, no sign, no overflow.
private func parseDecimal(_ text: String) -> UInt64? {
    guard !text.isEmpty, text.utf8.allSatisfy(isDigit) else { return nil }
    var value: UInt64 = 0
    for byte in text.utf8 {
        let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - 0x30))
        if overflow1 || overflow2 { return nil }
        value = sum
    }
    return value
}

extension StringProtocol {
    /// Self without the leading and trailing characters in `set` (Foundation's, without Foundation).
    package func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
