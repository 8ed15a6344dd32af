import Testing

@testable import HTTPClient

@Suite struct ContentRangeTests {
    @Test func parsesAndValidates() throws {
        let range = try ContentRange(parsing: "bytes 100-199/1000")
        #expect(range.first == 100 && range.last == 199 && range.completeLength == 1000 && range.count == 100)
        #expect(try ContentRange(parsing: "bytes 0-0/*").completeLength == nil)
        try range.validate(against: .from(100))
        try range.validate(against: .bounded(first: 100, last: 500))
        #expect(throws: HTTPClientError.invalidContentRange("asked for bytes=50-, got bytes 100-199/1000")) {
            try range.validate(against: .from(50))
        }
        #expect(throws: HTTPClientError.self) { try range.validate(against: .bounded(first: 100, last: 150)) }
        try ContentRange(parsing: "bytes 900-999/1000").validate(against: .suffix(100))
        #expect(throws: HTTPClientError.self) { try ContentRange(parsing: "bytes 800-999/1000").validate(against: .suffix(100)) }
        #expect(ContentRange.unsatisfiedLength("bytes */4096") == 4096)
        #expect(ContentRange.unsatisfiedLength("bytes 0-1/2") == nil)
    }

    @Test(arguments: [
        "bytes 5-4/10", "bytes 0-10/10", "items 0-1/2", "bytes 0-1", "bytes -1-2/3", "bytes 0-1/x",
        "bytes 99999999999999999999-1/2", "bytes  0-1/2", "",
    ])
    func malformedContentRangesAreRefused(value: String) {
        #expect(throws: HTTPClientError.invalidContentRange("malformed Content-Range \(value.debugDescription)")) {
            try ContentRange(parsing: value)
        }
    }

    @Test func checksOnA206Head() throws {
        var request = try HTTPRequest("http://h/f")
        request.range = .from(10)
        func head(_ status: Int, _ fields: [(String, String)]) -> HTTPResponseHead {
            HTTPResponseHead(version: "HTTP/1.1", status: status, reason: "", headers: HTTPHeaders(fields), keepAlive: true)
        }
        #expect(throws: HTTPClientError.invalidContentRange("206 without a Content-Range header")) {
            try ResponseChecks.contentRange(of: head(206, [("Content-Length", "5")]), for: request)
        }
        #expect(throws: HTTPClientError.invalidContentRange("Content-Length 7 does not match bytes 10-14/15")) {
            try ResponseChecks.contentRange(of: head(206, [("Content-Range", "bytes 10-14/15"), ("Content-Length", "7")]), for: request)
        }
        #expect(throws: HTTPClientError.invalidContentRange("multipart/byteranges responses are not supported (one range per request)")) {
            try ResponseChecks.contentRange(of: head(206, [("Content-Type", "multipart/byteranges; boundary=x")]), for: request)
        }
        #expect(throws: HTTPClientError.rangeNotSatisfiable(completeLength: nil)) {
            try ResponseChecks.contentRange(of: head(416, []), for: request)
        }
        #expect(try ResponseChecks.contentRange(of: head(200, []), for: request) == nil)
    }
}
