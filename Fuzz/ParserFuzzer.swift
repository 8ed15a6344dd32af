// libFuzzer entry point for the HTTP/1.1 response parser: any bytes, fed in pieces, must give
// events or a typed error, never a crash, a hang or unbounded memory. Built by scripts/fuzz-parser.sh
// together with the parser's own source files (no package, no other dependency).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    // The first byte chooses the request method and where to split the rest into two feeds.
    let control = input[0]
    let bytes = Array(input.dropFirst())
    let method = control & 1 == 0 ? "GET" : "HEAD"
    let split = bytes.isEmpty ? 0 : Int(control >> 1) % (bytes.count + 1)
    var parser = HTTPResponseParser(
        requestMethod: method, limits: HTTPParserLimits(maxLineLength: 256, maxHeaderBytes: 1024, maxHeaderCount: 16))
    var bodyBytes = 0
    var ended = false
    func note(_ events: [HTTPResponseEvent]) {
        for event in events {
            switch event {
            case .head: precondition(!ended, "a head after the end")
            case .body(let chunk): bodyBytes += chunk.count
            case .end: ended = true
            }
        }
    }
    do {
        note(try parser.feed(bytes[..<split]))
        note(try parser.feed(bytes[split...]))
        note(try parser.finish())
        precondition(parser.isComplete, "finish() returned without completing or throwing")
    } catch is HTTPParseError {
        // A typed error is a correct answer to malformed input.
    } catch {
        preconditionFailure("untyped error \(error)")
    }
    precondition(bodyBytes <= bytes.count, "more body bytes than input bytes")
    return 0
}
