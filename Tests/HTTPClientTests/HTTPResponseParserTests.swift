import Testing

@testable import HTTPClient

/// Parses a whole response fed at once, then at EOF; returns head, body and trailers.
func parse(
    _ text: String, method: String = "GET", limits: HTTPParserLimits = HTTPParserLimits(),
    closeAtEnd: Bool = true
) throws -> (head: HTTPResponseHead?, body: [UInt8], trailers: HTTPHeaders?) {
    var parser = HTTPResponseParser(requestMethod: method, limits: limits)
    var events = try parser.feed(Array(text.utf8))
    if closeAtEnd && !parser.isComplete { events += try parser.finish() }
    return collect(events)
}

func collect(_ events: [HTTPResponseEvent]) -> (head: HTTPResponseHead?, body: [UInt8], trailers: HTTPHeaders?) {
    var head: HTTPResponseHead?
    var body: [UInt8] = []
    var trailers: HTTPHeaders?
    for event in events {
        switch event {
        case .head(let value): head = value
        case .body(let bytes): body += bytes
        case .end(let value): trailers = value
        }
    }
    return (head, body, trailers)
}

@Suite struct HTTPResponseParserTests {
    @Test func contentLengthBody() throws {
        let result = try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing:  spaced value \r\n\r\nhello", closeAtEnd: false)
        #expect(result.head?.status == 200)
        #expect(result.head?.reason == "OK")
        #expect(result.head?.headers.first("x-thing") == "spaced value")
        #expect(result.head?.keepAlive == true)
        #expect(result.body == Array("hello".utf8))
        #expect(result.trailers == HTTPHeaders())
    }

    @Test func feedingOneByteAtATimeGivesTheSameMessage() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nExpires: never\r\n\r\n"
        var parser = HTTPResponseParser()
        var events: [HTTPResponseEvent] = []
        for byte in text.utf8 { events += try parser.feed([byte]) }
        let bytewise = collect(events)
        let whole = try parse(text, closeAtEnd: false)
        #expect(bytewise.body == Array("hello world".utf8))
        #expect(bytewise.body == whole.body)
        #expect(bytewise.trailers?.first("expires") == "never")
        #expect(parser.isComplete)
    }

    @Test func informationalResponsesAreSkipped() throws {
        let result = try parse(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            closeAtEnd: false)
        #expect(result.head?.status == 204)
        #expect(result.body.isEmpty)
        #expect(result.trailers != nil)
    }

    @Test func noBodyForHeadAnd204And304() throws {
        for (method, status) in [("HEAD", 200), ("GET", 204), ("GET", 304)] {
            let result = try parse("HTTP/1.1 \(status) X\r\nContent-Length: 100\r\n\r\n", method: method, closeAtEnd: false)
            #expect(result.head?.status == status)
            #expect(result.body.isEmpty)
            #expect(result.trailers != nil, "\(method) \(status) ends without a body")
        }
    }

    @Test func readUntilCloseBody() throws {
        var parser = HTTPResponseParser()
        let first = collect(try parser.feed(Array("HTTP/1.0 200 OK\r\n\r\npart one,".utf8)))
        #expect(first.head?.keepAlive == false)
        #expect(first.trailers == nil)
        let second = collect(try parser.feed(Array(" part two".utf8)) + (try parser.finish()))
        #expect(first.body + second.body == Array("part one, part two".utf8))
        #expect(second.trailers != nil)
    }

    @Test func transferEncodingOverridesContentLengthAndTheConnectionCloses() throws {
        let result = try parse(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
            closeAtEnd: false)
        #expect(result.body == Array("abcd".utf8))
        #expect(result.head?.keepAlive == false)
    }

    @Test func repeatedIdenticalContentLengthsAreOneLength() throws {
        let result = try parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok", closeAtEnd: false)
        #expect(result.body == Array("ok".utf8))
    }

    @Test(
        arguments: [
            ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", HTTPParseError.conflictingContentLengths(["3", "4"])),
            ("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", .invalidContentLength("+3")),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", .invalidContentLength("0x10")),
            ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", .invalidContentLength("99999999999999999999999")),
            ("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", .invalidContentLength("")),
            ("HTTP/1.1 200 OK\r\n folded\r\nX-A: 1\r\n\r\n", .obsoleteLineFolding),
            ("HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", .whitespaceBeforeColon("X-A ")),
            ("HTTP/1.1 200 OK\r\nX(A): 1\r\n\r\n", .invalidHeaderName("X(A)")),
            ("HTTP/1.1 200 OK\r\n: 1\r\n\r\n", .invalidHeaderName("")),
            ("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", .malformedHeaderLine("NoColon")),
            ("HTTP/1.1 200 OK\r\nX-A: a\u{01}b\r\n\r\n", .invalidHeaderValue(name: "X-A")),
            ("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", .bareCarriageReturn),
            ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion("HTTP/2.0")),
            ("HTTP/1.1 20 OK\r\n\r\n", .invalidStatusCode("20 ")),
            ("HTTP/1.1 999 Nope\r\n\r\n", .invalidStatusCode("999")),
            ("HTTP/1.1 2000 OK\r\n\r\n", .invalidStatusCode("2000")),
            ("ICY 200 OK\r\n\r\n", .malformedStatusLine("ICY 200 OK")),
            ("HTTP/1.1\r\n\r\n", .malformedStatusLine("HTTP/1.1")),
            ("HTTP/1.1 101 Switching Protocols\r\n\r\n", .switchingProtocolsNotRequested),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding("gzip, chunked")),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunkSize("zz")),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", .invalidChunkSize("")),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n", .invalidChunkSize("1 x")),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", .invalidChunkSize("10000000000000000")),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", .malformedChunk("chunk data not followed by CRLF")),
        ] as [(String, HTTPParseError)])
    func malformedInputIsATypedError(text: String, expected: HTTPParseError) {
        #expect(throws: expected) { try parse(text) }
    }

    @Test func truncatedMessagesSayWhereTheyStopped() {
        #expect(throws: HTTPParseError.truncated("no response")) { try parse("") }
        #expect(throws: HTTPParseError.truncated("in the response head")) { try parse("HTTP/1.1 200 OK\r\nX-A: 1\r\n") }
        #expect(throws: HTTPParseError.truncated("3 body bytes missing")) { try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab") }
        #expect(throws: HTTPParseError.truncated("in the chunked body")) {
            try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
        }
    }

    @Test func limitsAreEnforcedWithoutUnboundedGrowth() {
        let limits = HTTPParserLimits(maxLineLength: 64, maxHeaderBytes: 256, maxHeaderCount: 3)
        #expect(throws: HTTPParseError.lineTooLong(limit: 64)) {
            var parser = HTTPResponseParser(limits: limits)
            _ = try parser.feed(Array(("HTTP/1.1 200 " + String(repeating: "a", count: 100)).utf8))  // no newline yet
        }
        #expect(throws: HTTPParseError.tooManyHeaders(limit: 3)) {
            try parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits: limits)
        }
        #expect(throws: HTTPParseError.headersTooLarge(limit: 256)) {
            let fields = (0..<3).map { "H\($0): " + String(repeating: "v", count: 50) + "\r\n" }.joined()
            _ = try parse(
                "HTTP/1.1 200 OK\r\n" + fields + fields + "\r\n",
                limits: HTTPParserLimits(maxLineLength: 64, maxHeaderBytes: 256, maxHeaderCount: 100))
        }
    }

    @Test func bytesAfterTheEndAreRefused() throws {
        var parser = HTTPResponseParser()
        _ = try parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx".utf8))
        #expect(parser.isComplete)
        #expect(throws: HTTPParseError.dataAfterEndOfMessage) { try parser.feed(Array("junk".utf8)) }
    }

    /// Feeds `text` whole, then byte by byte, and checks both give the same outcome.
    private func parseBothWays(_ text: String, method: String = "GET") throws -> (
        head: HTTPResponseHead?, body: [UInt8], trailers: HTTPHeaders?
    ) {
        let whole = try parse(text, method: method)
        var parser = HTTPResponseParser(requestMethod: method)
        var events: [HTTPResponseEvent] = []
        for byte in text.utf8 { events += try parser.feed([byte]) }
        if !parser.isComplete { events += try parser.finish() }
        let bytewise = collect(events)
        #expect(bytewise.head == whole.head)
        #expect(bytewise.body == whole.body)
        #expect(bytewise.trailers == whole.trailers)
        return whole
    }

    // RFC 9112 §2.2: "In the interest of robustness, a server that is expecting to receive and
    // parse a request-line SHOULD ignore at least one empty line (CRLF) received prior to the
    // request-line." The client applies the same robustness to the status line (after a 1xx,
    // or a server padding after its previous response), up to `maxEmptyLinesBeforeStatusLine`
    // (4) before each status line; the fifth is an error.
    @Test func emptyLinesBeforeAStatusLineAreIgnored() throws {
        let before = try parseBothWays("\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(before.head?.status == 200)
        #expect(before.body == Array("ok".utf8))
        let afterInterim = try parseBothWays("HTTP/1.1 100 Continue\r\n\r\n\r\n\r\n\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
        #expect(afterInterim.head?.status == 204)
        #expect(afterInterim.body.isEmpty, "the empty lines are not body")
        #expect(throws: HTTPParseError.malformedStatusLine("")) {
            try parse(
                String(repeating: "\r\n", count: HTTPResponseParser.maxEmptyLinesBeforeStatusLine + 1) + "HTTP/1.1 204 No Content\r\n\r\n")
        }
        #expect(throws: HTTPParseError.truncated("in the response head")) { try parse("\r\n\r\n") }
    }

    // RFC 9112 §5.2: "A user agent that receives an obs-fold in a response message ... MUST
    // replace each received obs-fold with one or more SP octets prior to interpreting the
    // field value."
    @Test func obsFoldIsReplacedWithOneSpace() throws {
        let result = try parseBothWays("HTTP/1.1 200 OK\r\nX-A: one\r\n  two \r\n\tthree\r\nX-B: b\r\nContent-Length: 0\r\n\r\n")
        #expect(result.head?.headers.first("X-A") == "one two three")
        #expect(result.head?.headers.first("X-B") == "b")
        #expect(result.head?.headers.count == 3, "a continuation is not a field of its own")
        let empty = try parseBothWays("HTTP/1.1 200 OK\r\nX-A:\r\n folded\r\nContent-Length: 0\r\n\r\n")
        #expect(empty.head?.headers.first("X-A") == "folded")
        let framing = try parseBothWays("HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\n\r\nok")
        #expect(framing.body == Array("ok".utf8), "the unfolded value frames the body")
        #expect(throws: HTTPParseError.invalidHeaderValue(name: "X-A")) {
            try parse("HTTP/1.1 200 OK\r\nX-A: 1\r\n a\u{01}\r\n\r\n")
        }
        // With no field before it there is nothing to continue.
        #expect(throws: HTTPParseError.obsoleteLineFolding) { try parse("HTTP/1.1 200 OK\r\n\tX-A: 1\r\n\r\n") }
        // Limits still apply: the folded line counts toward the header section.
        let limits = HTTPParserLimits(maxLineLength: 64, maxHeaderBytes: 128, maxHeaderCount: 100)
        #expect(throws: HTTPParseError.headersTooLarge(limit: 128)) {
            let folds = String(repeating: " " + String(repeating: "v", count: 40) + "\r\n", count: 4)
            _ = try parse("HTTP/1.1 200 OK\r\nX-A: 1\r\n" + folds + "\r\n", limits: limits)
        }
    }

    // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
    // chunk-ext-name = token, chunk-ext-val = token / quoted-string; and RFC 9110 §5.6.4:
    // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE.
    @Test(arguments: ["5", "5;a", "5;a=b", "5 ;a", "5; a", "5 ; a = b", "5;a=\"x y;z\"", "5;a=\"q\\\"\\\\\";b", "5;a;b=1;c=\"\"", "0005"])
    func wellFormedChunkSizeLinesAreAccepted(line: String) throws {
        let result = try parseBothWays("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(line)\r\nhello\r\n0\r\n\r\n")
        #expect(result.body == Array("hello".utf8))
    }

    // The same grammar: whitespace only as BWS around ";" and "=" (so none after the size
    // without an extension, as llhttp's strict mode), a name after every ";", balanced quotes.
    @Test(arguments: [
        "25  ", "25\t", "5;", "5; ", "5;=b", "5;a=", "5;a=\"open", "5;a=\"x\"y", "5;a b", "5;a ", "5;a=b c",
        "5;a=\"\\", "5;a=\"\u{01}\"", "5;(a)", " 5", "5x", ";a",
    ])
    func malformedChunkSizeLinesAreRefused(line: String) {
        #expect(throws: HTTPParseError.invalidChunkSize(line)) {
            try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(line)\r\nhello\r\n0\r\n\r\n")
        }
    }

    // RFC 9112 §6.1: Transfer-Encoding = #transfer-coding, and §6.3: a Transfer-Encoding
    // whose final coding is not chunked cannot frame a response body here. A field with no
    // coding at all is therefore not framing, and not the same as no field.
    @Test(arguments: [
        "Transfer-Encoding:\r\n", "Transfer-Encoding: \r\n", "Transfer-Encoding: ,\r\n", "Transfer-Encoding:\r\nContent-Length: 2\r\n",
    ])
    func anEmptyTransferEncodingIsAnError(field: String) {
        #expect(throws: HTTPParseError.self) { try parse("HTTP/1.1 200 OK\r\n" + field + "\r\nok") }
        #expect(HTTPParseError.unsupportedTransferEncoding("").description.contains("no transfer coding"))
    }

    // RFC 9112 §6.1: "A server or client that receives an HTTP/1.0 message containing a
    // Transfer-Encoding header field MUST treat the message as if the framing is faulty, even
    // if a Content-Length is present, and close the connection after processing the message.
    // The message sender might have retained a portion of the message, in buffer, that could
    // be misinterpreted by further use of the connection."
    @Test func http10WithTransferEncodingIsNeverKeptAlive() throws {
        let chunked = try parseBothWays(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
        #expect(chunked.body == Array("ok".utf8))
        #expect(chunked.head?.keepAlive == false)
        let withLength = try parseBothWays(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
        #expect(withLength.head?.keepAlive == false)
        let head = try parseBothWays("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", method: "HEAD")
        #expect(head.head?.keepAlive == false)
        // Without Transfer-Encoding the same keep-alive is honoured: the rule is what changed it.
        let plain = try parseBothWays("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")
        #expect(plain.head?.keepAlive == true)
    }

    // RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received prior
    // to a final response" — one or more, not without end: past `maxInterimResponses` (10)
    // the request ends with a typed error.
    @Test func interimResponsesAreBounded() throws {
        let limit = HTTPResponseParser.maxInterimResponses
        let interim = String(repeating: "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", count: limit)
        let final = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        #expect(try parseBothWays(interim + final).head?.status == 200)
        #expect(throws: HTTPParseError.tooManyInterimResponses(limit: limit)) {
            try parse(interim + "HTTP/1.1 100 Continue\r\n\r\n" + final)
        }
        var parser = HTTPResponseParser()
        #expect(throws: HTTPParseError.tooManyInterimResponses(limit: limit)) {
            for _ in 0..<1000 { _ = try parser.feed(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
        }
    }

    // RFC 9112 §9.8: "A response that has neither chunked transfer coding nor Content-Length
    // is complete only if a valid closure alert has been received."
    @Test func anIncompleteCloseDoesNotEndABodyDelimitedByTheClose() throws {
        var parser = HTTPResponseParser()
        _ = try parser.feed(Array("HTTP/1.1 200 OK\r\n\r\npart".utf8))
        #expect(throws: HTTPParseError.self) { try parser.finish(incompleteClose: true) }
        var framed = HTTPResponseParser()
        _ = try framed.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npart".utf8))
        #expect(framed.isComplete)
        #expect(try framed.finish(incompleteClose: true).isEmpty)
    }

    // Found by Fuzz/ResponsePathFuzzer.swift: a line of exactly the limit whose CR ended one
    // feed was refused (the CR counted as line), while the same bytes fed whole were accepted;
    // and a bare-LF line one byte over the limit passed whole. The line limit counts the line
    // without CRLF / LF, and an error never depends on where the feeds were cut.
    @Test func theLineLimitDoesNotDependOnHowBytesArrive() throws {
        let limits = HTTPParserLimits(maxLineLength: 32, maxHeaderBytes: 1024, maxHeaderCount: 10)
        let field = "X-A: " + String(repeating: "v", count: 27)  // 32 bytes
        let text = "HTTP/1.1 200 OK\r\n\(field)\r\nContent-Length: 0\r\n\r\n"
        var split = HTTPResponseParser(limits: limits)
        let cut = text.utf8.count - "\nContent-Length: 0\r\n\r\n".utf8.count  // just after the field's CR
        var events = try split.feed(Array(text.utf8.prefix(cut)))
        events += try split.feed(Array(text.utf8.dropFirst(cut)))
        #expect(collect(events).head?.headers.first("X-A") == String(repeating: "v", count: 27))
        #expect(try parse(text, limits: limits).head?.status == 200)
        let over = "HTTP/1.1 200 OK\n\(field)v\nContent-Length: 0\n\n"
        #expect(throws: HTTPParseError.lineTooLong(limit: 32)) { _ = try parse(over, limits: limits) }
        #expect(throws: HTTPParseError.lineTooLong(limit: 32)) {
            var parser = HTTPResponseParser(limits: limits)
            for byte in over.utf8 { _ = try parser.feed([byte]) }
        }
    }

    @Test func bareLineFeedsAreAccepted() throws {
        let result = try parse("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", closeAtEnd: false)
        #expect(result.body == Array("ok".utf8))
    }
}
