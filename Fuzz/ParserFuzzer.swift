// libFuzzer entry point for the HTTP/1.1 response parser and the body decoders behind it: any
// bytes, fed in pieces, must give events or a typed error, never a crash, a hang or unbounded
// memory; a body with a Content-Encoding is decoded (gzip, deflate, br, zstd, in small output
// steps) within a 1 MiB limit. Built by scripts/fuzz.sh together with the parser's and
// ContentCoding's source files and the Debian decoder libraries (no package).

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
    var body: [UInt8] = []
    var coding: ContentCoding?
    var ended = false
    func note(_ events: [HTTPResponseEvent]) {
        for event in events {
            switch event {
            case .head(let head):
                precondition(!ended, "a head after the end")
                coding = try? ContentCoding.of(contentEncoding: head.headers["Content-Encoding"].joined(separator: ","))
            case .body(let chunk):
                bodyBytes += chunk.count
                body += chunk
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
    if let coding { decode(body, coding, outputStep: Int(control % 7) + 1) }
    return 0
}

/// Decodes `body` through `outputStep`-byte windows: a typed error or the bytes, within the limit.
func decode(_ body: [UInt8], _ coding: ContentCoding, outputStep: Int) {
    let limit: UInt64 = 1 << 20
    do {
        let decoder = try ContentDecoder(coding, limits: DecompressionLimits(maxDecodedBytes: limit, maxRatio: 1000, ratioGrace: 4096))
        var output = [UInt8](repeating: 0, count: outputStep * 1024)
        var position = 0
        var idle = 0
        while idle < 2 {
            let step = try body[position...].withUnsafeBytes { input in
                try output.withUnsafeMutableBytes { try decoder.decode(input, into: $0) }
            }
            position += step.consumed
            idle = step.consumed == 0 && step.produced == 0 ? idle + 1 : 0
        }
        precondition(position == body.count || decoder.isAtEnd, "input left over in the middle of a stream")
        try decoder.finish()
        precondition(decoder.decodedBytes <= limit, "decoded past the limit")
    } catch is ContentDecodingError {
        // A typed error is a correct answer to a bad stream.
    } catch {
        preconditionFailure("untyped error \(error)")
    }
}
