/// A chunked request body (RFC 9112 §7.1) decoded from bytes as they arrive, with no I/O:
/// sizes in hex, extensions ignored, trailers dropped, every framing line ending in CRLF and
/// at most 4 KiB. `ConnectionIO.readChunkedBody` feeds it what the stream reads; the fuzz
/// target (scripts/fuzz.sh chunked-body) feeds it any bytes, split anywhere.
///
/// A value type confined to its connection's tasklet. Cost: O(bytes fed); the kept body grows
/// to at most `keep` bytes, a framing line to 4 KiB.
struct ChunkedBodyDecoder {
    /// The longest framing line (size line, CRLF after data, trailer), CR included.
    static let maxLineBytes = 4096

    private enum State: Equatable {
        case sizeLine
        case data(remaining: UInt64)
        /// The CRLF that ends a chunk's data.
        case dataEnd
        case trailer
        case done
    }

    /// The body's first `keep` bytes (the rest is counted and dropped).
    private(set) var kept: [UInt8] = []
    /// The payload bytes announced so far (every chunk size), checked against `limit`.
    private(set) var total: UInt64 = 0
    private let keep: Int
    private let limit: UInt64
    private var state = State.sizeLine
    private var line: [UInt8] = []

    /// - Parameters:
    ///   - keep: how many payload bytes to keep.
    ///   - limit: the largest payload accepted; a chunk size that passes it is refused.
    init(keep: Int, limit: UInt64) {
        self.keep = keep
        self.limit = limit
    }

    /// True once the last chunk and the trailer section (its empty line) have been read.
    var isComplete: Bool { state == .done }

    /// Decodes what it can of `bytes`, stopping right after the body's last CRLF.
    /// - Returns: how many bytes belong to the body (all of them unless it ended inside them:
    ///   the rest is the connection's next request).
    /// - Throws: `ChunkedBodyError` for bad framing or a body over `limit`.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(ChunkedBodyError) -> Int {
        var index = 0
        while index < bytes.count {
            switch state {
            case .done:
                return index
            case .data(let remaining):
                let take = Int(min(UInt64(bytes.count - index), remaining))
                if kept.count < keep {
                    kept.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + min(take, keep - kept.count))]))
                }
                index += take
                state = remaining == UInt64(take) ? .dataEnd : .data(remaining: remaining - UInt64(take))
            case .sizeLine, .dataEnd, .trailer:
                let byte = bytes[index]
                index += 1
                if byte == 0x0A {
                    guard line.last == 0x0D else { throw ChunkedBodyError("a bare LF in chunked framing") }
                    line.removeLast()
                    try endOfLine()
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(byte)
                    guard line.count <= Self.maxLineBytes else { throw ChunkedBodyError("a chunk line over 4 KiB") }
                }
            }
        }
        return index
    }

    /// The stream ended before the body did. - Returns: nil when that is a plain early end
    /// (the caller closes quietly), or the error to answer: the stream ended where a chunk's
    /// closing CRLF belonged.
    var errorAtEndOfStream: ChunkedBodyError? {
        state == .dataEnd ? ChunkedBodyError("no CRLF after a chunk") : nil
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    private mutating func endOfLine() throws(ChunkedBodyError) {
        switch state {
        case .sizeLine:
            // chunk-size [ BWS ";" chunk-ext ] (RFC 9112 §7.1.1), spaces before the CRLF tolerated:
            // hex digits first, nothing else ("+a", " a" or ";a" are not sizes).
            let digits = line.prefix(while: Self.isHexDigit)
            var rest = line[digits.endIndex...]
            while let first = rest.first, first == 0x20 || first == 0x09 { rest = rest.dropFirst() }
            guard !digits.isEmpty, digits.count <= 15, rest.isEmpty || rest.first == UInt8(ascii: ";"),
                let size = UInt64(String(decoding: digits, as: UTF8.self), radix: 16)
            else {
                throw ChunkedBodyError("bad chunk size line")
            }
            if size == 0 {
                state = .trailer
                return
            }
            total += size
            guard total <= limit else { throw ChunkedBodyError("chunked body over \(limit) bytes", isOverLimit: true) }
            state = .data(remaining: size)
        case .dataEnd:
            guard line.isEmpty else { throw ChunkedBodyError("no CRLF after a chunk") }
            state = .sizeLine
        case .trailer:
            if line.isEmpty { state = .done }
        case .data, .done:
            break  // only lines end here
        }
    }
}

/// Chunked request framing the server cannot follow (answered 400), or a body over its limit.
struct ChunkedBodyError: Error, Equatable, CustomStringConvertible {
    let description: String
    /// The framing was fine, but a chunk size took the body past the limit.
    let isOverLimit: Bool
    init(_ description: String, isOverLimit: Bool = false) {
        self.description = description
        self.isOverLimit = isOverLimit
    }
}
