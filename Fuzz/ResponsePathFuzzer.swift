// libFuzzer differential target for the response path: the same bytes, fed to the parser in
// four ways, must give the same answer. Built by scripts/fuzz-response-path.sh together with
// the parser's own source files (no package, no other dependency).
//
// The feeds of one input (after its control byte):
//   1. whole: one feed() of every byte;
//   2. bytewise: one feed() per byte;
//   3. split: feed() of pieces whose lengths come from a generator seeded from the input;
//   4. direct: the split pieces again, but as the engines read a body (ResponseDecoder): while
//      `directBodyLimit` > 0 the next min(limit, piece) bytes are taken as body without being
//      fed, and accounted with `consumeDirectBody`; the rest of the piece is fed;
//   5. decoder: the split pieces through `ResponseDecoder`, the engines' own wrapper (head
//      block cut, body bytes left in the read buffer, `directLimit`/`acceptDirect`), reading
//      pieces only until the message is finished, as an engine stops reading.
// Each feed ends with finish() (the peer closed), unless the parser already threw.
//
// The invariant, exactly:
//   - either no feed throws, and every feed's merged event stream is equal to the whole
//     feed's: the same single head, the same body bytes concatenated (however the body was
//     cut into events, or read directly), and the same end with the same trailers; each
//     stream is well formed (at most one head, first; nothing after the end; an end present,
//     since finish() returned);
//   - or every feed throws, and all throw the same HTTPParseError (case and payload). Every
//     error the parser throws is decided by a prefix of the input (it throws at the first
//     byte that makes the input invalid, whatever the later bytes), which is what makes a
//     split feed throw the same error at the same byte as the whole feed. A feed never throws
//     anything but an HTTPParseError.
// The decoder feed does not see trailers, and stops at the end of the message, so it is held to
// the same head, body and error, except that where the whole feed throws
// dataAfterEndOfMessage (bytes after a complete message) the decoder may succeed instead.
// Any difference is a crash (preconditionFailure) that libFuzzer reports with the input.

#if canImport(Glibc)
    import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponsePath(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    // The control byte: bit 0 the method, bit 1 whether the close is an incomplete one (TLS
    // without close_notify), bit 2 small or default limits.
    let control = input[0]
    let bytes = Array(input.dropFirst())
    let method = control & 1 == 0 ? "GET" : "HEAD"
    let incompleteClose = control & 2 != 0
    let limits =
        control & 4 == 0
        ? HTTPParserLimits(maxLineLength: 64, maxHeaderBytes: 256, maxHeaderCount: 8)
        : HTTPParserLimits()
    let pieces = splitPoints(of: bytes)
    func parser() -> HTTPResponseParser { HTTPResponseParser(requestMethod: method, limits: limits) }

    let whole = run(parser(), incompleteClose: incompleteClose) { feed in try feed(bytes[...]) }
    let bytewise = run(parser(), incompleteClose: incompleteClose) { feed in
        for index in bytes.indices { try feed(bytes[index...index]) }
    }
    let split = run(parser(), incompleteClose: incompleteClose) { feed in
        for range in pieces { try feed(bytes[range]) }
    }
    let direct = runDirect(parser(), pieces: pieces, bytes: bytes, incompleteClose: incompleteClose)

    for (name, outcome) in [("bytewise", bytewise), ("split", split), ("direct", direct)] where outcome != whole {
        fail("\(name) feed differs from the whole feed:\n  whole: \(whole)\n  \(name): \(outcome)")
    }
    let decoded = runDecoder(method: method, limits: limits, pieces: pieces, bytes: bytes, incompleteClose: incompleteClose)
    var stoppedEarly = false
    if whole == .error(.dataAfterEndOfMessage), case .message = decoded { stoppedEarly = true }
    if decoded.withoutTrailers != whole.withoutTrailers && !stoppedEarly {
        fail("decoder feed differs from the whole feed:\n  whole: \(whole)\n  decoder: \(decoded)")
    }
    return 0
}

/// What one feed of an input came to.
enum Outcome: Equatable, CustomStringConvertible {
    /// The merged event stream: head, then all body bytes, then the end's trailers.
    case message(head: HTTPResponseHead, body: [UInt8], trailers: HTTPHeaders)
    case error(HTTPParseError)

    var description: String {
        switch self {
        case .message(let head, let body, let trailers):
            return "head \(head.status) \(head.headers.fields.map { "\($0.name)=\($0.value)" }) keepAlive \(head.keepAlive), "
                + "\(body.count) body bytes, trailers \(trailers.fields.map { "\($0.name)=\($0.value)" })"
        case .error(let error): return "error \(error)"
        }
    }

    /// The same outcome with the trailers left out (the decoder does not keep them).
    var withoutTrailers: Outcome {
        if case .message(let head, let body, _) = self { return .message(head: head, body: body, trailers: HTTPHeaders()) }
        return self
    }
}

/// Merges events as they come, checking the stream's shape.
struct MergedStream {
    var head: HTTPResponseHead?
    var body: [UInt8] = []
    var trailers: HTTPHeaders?

    mutating func add(_ events: [HTTPResponseEvent]) {
        for event in events {
            check(trailers == nil, "an event after the end: \(event)")
            switch event {
            case .head(let value):
                check(head == nil, "a second head")
                head = value
            case .body(let bytes):
                check(head != nil, "body before the head")
                body += bytes
            case .end(let value):
                check(head != nil, "the end before the head")
                trailers = value
            }
        }
    }

    mutating func addDirect(_ bytes: ArraySlice<UInt8>) {
        check(head != nil && trailers == nil, "direct body bytes outside a body")
        body += bytes
    }

    var outcome: Outcome {
        guard let head, let trailers else { fail("finish() returned without the end of the message") }
        return .message(head: head, body: body, trailers: trailers)
    }
}

/// Runs `feeding` (which calls its argument with each piece), then finish().
func run(
    _ start: HTTPResponseParser, incompleteClose: Bool,
    _ feeding: (_ feed: (ArraySlice<UInt8>) throws -> Void) throws -> Void
) -> Outcome {
    var parser = start
    var stream = MergedStream()
    return outcome {
        try feeding { piece in stream.add(try parser.feed(piece)) }
        stream.add(try parser.finish(incompleteClose: incompleteClose))
        check(parser.isComplete, "finish() returned without completing")
        return stream.outcome
    }
}

/// The split feed, with body bytes taken directly whenever the parser allows it.
func runDirect(_ start: HTTPResponseParser, pieces: [Range<Int>], bytes: [UInt8], incompleteClose: Bool) -> Outcome {
    var parser = start
    var stream = MergedStream()
    return outcome {
        for range in pieces {
            var rest = bytes[range]
            let limit = parser.directBodyLimit
            if limit > 0 {
                let take = min(limit, rest.count)
                stream.addDirect(rest.prefix(take))
                if let event = parser.consumeDirectBody(take) { stream.add([event]) }
                rest = rest.dropFirst(take)
            }
            if !rest.isEmpty { stream.add(try parser.feed(rest)) }
        }
        stream.add(try parser.finish(incompleteClose: incompleteClose))
        check(parser.isComplete, "finish() returned without completing")
        return stream.outcome
    }
}

/// The split feed through `ResponseDecoder`, as `HTTPExchangeMachine` drives it: a read
/// lands in the decoder's own window (`readWindow`, empty while bytes are pending there) and is
/// ingested, pending body bytes are copied out, and once the decoder allows it the next read
/// goes straight to the reader (`directLimit`, `acceptDirect`).
func runDecoder(method: String, limits: HTTPParserLimits, pieces: [Range<Int>], bytes: [UInt8], incompleteClose: Bool) -> Outcome {
    var decoder = ResponseDecoder(requestMethod: method, limits: limits, buffer: ReadBuffer(size: bytes.count))
    var body: [UInt8] = []
    let reader = UnsafeMutableRawBufferPointer.allocate(byteCount: 37, alignment: 1)  // small and odd: many copies
    defer { reader.deallocate() }
    func drain() {
        while true {
            let copied = decoder.copyPending(into: reader)
            if copied == 0 { return }
            body += UnsafeRawBufferPointer(rebasing: reader[0..<copied])
        }
    }
    return outcome {
        for range in pieces where !decoder.isFinished {
            var rest = range
            let direct = decoder.directLimit
            if direct > 0 {
                let take = min(direct, rest.count)
                body += bytes[rest.prefix(take)]
                decoder.acceptDirect(take)
                rest = rest.dropFirst(take)
            }
            // A piece larger than the window arrives over several reads, as from a socket.
            while !rest.isEmpty, !decoder.isFinished {
                let window = decoder.readWindow
                let count = min(rest.count, window.count)
                bytes.withUnsafeBytes { source in
                    window.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[rest.prefix(count)]))
                }
                try decoder.ingestRead(count)
                drain()
                rest = rest.dropFirst(count)
            }
        }
        if !decoder.isFinished {
            try decoder.ingestEndOfStream(incompleteClose: incompleteClose)
            drain()
        }
        check(decoder.isFinished, "the decoder took the end of stream without finishing")
        check(!decoder.hasPending, "body bytes left pending")
        guard let head = decoder.head else { fail("finished without a head") }
        return .message(head: head, body: body, trailers: HTTPHeaders())
    }
}

func outcome(_ body: () throws -> Outcome) -> Outcome {
    do {
        return try body()
    } catch let error as HTTPParseError {
        return .error(error)
    } catch {
        fail("untyped error \(error)")
    }
}

/// Consecutive non-empty ranges covering `bytes`, with lengths from a generator seeded with a
/// hash of the input: the same input always splits the same way (libFuzzer needs that to
/// reproduce a crash), and different inputs split differently.
func splitPoints(of bytes: [UInt8]) -> [Range<Int>] {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    var generator = SplitMix64(seed: hash)
    var ranges: [Range<Int>] = []
    var start = 0
    while start < bytes.count {
        // Mostly short pieces (they cut lines and CRLFs), sometimes long ones.
        let bound: UInt64 = [2, 8, 64, 1024][Int(generator.next() % 4)]
        let length = Int(1 + generator.next() % bound)
        let end = min(bytes.count, start + length)
        ranges.append(start..<end)
        start = end
    }
    return ranges
}

struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A broken invariant: says which on stderr (an -O build prints no precondition message), then
/// aborts for libFuzzer to save the input.
func fail(_ message: String) -> Never {
    fputs("response path fuzzer: \(message)\n", stderr)
    abort()
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fail(message()) }
}
