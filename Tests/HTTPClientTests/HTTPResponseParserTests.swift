import Testing
@testable import HTTPClient

/// Parses a whole response fed at once, then at EOF; returns head, body and trailers.
func parse(_ text: String, method: String = "GET", limits: HTTPParserLimits = HTTPParserLimits(),
           closeAtEnd: Bool = true) throws -> (head: HTTPResponseHead?, body: [UInt8], trailers: HTTPHeaders?) {
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
        let result = try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
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
        let result = try parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
                               closeAtEnd: false)
        #expect(result.body == Array("abcd".utf8))
        #expect(result.head?.keepAlive == false)
    }

    @Test func repeatedIdenticalContentLengthsAreOneLength() throws {
        let result = try parse("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok", closeAtEnd: false)
        #expect(result.body == Array("ok".utf8))
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", HTTPParseError.conflictingContentLengths(["3", "4"])),
        ("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", .invalidContentLength("+3")),
        ("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", .invalidContentLength("0x10")),
        ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", .invalidContentLength("99999999999999999999999")),
        ("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", .invalidContentLength("")),
        ("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", .obsoleteLineFolding),
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
            _ = try parse("HTTP/1.1 200 OK\r\n" + fields + fields + "\r\n", limits: HTTPParserLimits(maxLineLength: 64, maxHeaderBytes: 256, maxHeaderCount: 100))
        }
    }

    @Test func bytesAfterTheEndAreRefused() throws {
        var parser = HTTPResponseParser()
        _ = try parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx".utf8))
        #expect(parser.isComplete)
        #expect(throws: HTTPParseError.dataAfterEndOfMessage) { try parser.feed(Array("junk".utf8)) }
    }

    @Test func bareLineFeedsAreAccepted() throws {
        let result = try parse("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", closeAtEnd: false)
        #expect(result.body == Array("ok".utf8))
    }
}
