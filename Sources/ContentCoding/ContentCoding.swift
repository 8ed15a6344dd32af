/// The content codings a response body may come in (RFC 9110 §8.4.1), each decoded by the
/// Debian library made for it: gzip and deflate by zlib, br by libbrotli, zstd by libzstd.
public enum ContentCoding: String, Sendable, CaseIterable, CustomStringConvertible {
    /// gzip (RFC 1952), decoded by zlib.
    case gzip
    /// RFC 9110's "deflate" is the zlib format (RFC 1950); a raw DEFLATE stream (RFC 1951), which
    /// some servers send instead, is recognised by its first byte and decoded too, as curl does.
    case deflate
    /// Brotli (RFC 7932), decoded by libbrotli.
    case br
    /// Zstandard (RFC 8878), decoded by libzstd.
    case zstd

    /// What a client that decodes all of them sends (`Accept-Encoding`).
    public static let acceptEncoding = "gzip, deflate, br, zstd"

    /// The coding a `Content-Encoding` value names: nil for none or identity.
    /// - Throws: `ContentDecodingError.unsupported` for a coding not above, or for more than one
    ///   coding applied in turn ("deflate, gzip"), which no server we know of sends.
    public static func of(contentEncoding value: String) throws(ContentDecodingError) -> ContentCoding? {
        let codings = value.split(separator: ",").map { String($0.filter { $0 != " " && $0 != "\t" }).lowercased() }
            .filter { !$0.isEmpty && $0 != "identity" }
        guard let first = codings.first else { return nil }
        guard codings.count == 1 else { throw .unsupported(value) }
        switch first {
        case "gzip", "x-gzip": return .gzip
        case "deflate": return .deflate
        case "br": return .br
        case "zstd": return .zstd
        default: throw .unsupported(value)
        }
    }

    /// The token as it appears in `Content-Encoding` and `Accept-Encoding` ("gzip", "br", ...).
    public var description: String { rawValue }
}

/// How far a decoded body may grow: the guard against a decompression bomb (a few kilobytes that
/// decode to gigabytes).
public struct DecompressionLimits: Sendable, Equatable {
    /// Decoded bytes at most; nil: no limit on size (the ratio still holds).
    public var maxDecodedBytes: UInt64?
    /// Decoded bytes per encoded byte at most, checked once `ratioGrace` bytes are decoded (a
    /// tiny body may have any ratio); nil: no ratio limit. Text compresses 5-20x, rarely 50x.
    public var maxRatio: UInt64?
    /// Decoded bytes before the ratio is checked.
    public var ratioGrace: UInt64

    /// Limits on a decoder's output. The defaults allow any size but at most 100 decoded bytes
    /// per encoded byte once 1 MiB is decoded.
    public init(maxDecodedBytes: UInt64? = nil, maxRatio: UInt64? = 100, ratioGrace: UInt64 = 1 << 20) {
        self.maxDecodedBytes = maxDecodedBytes
        self.maxRatio = maxRatio
        self.ratioGrace = ratioGrace
    }
}

/// Why an encoded body could not be decoded.
public enum ContentDecodingError: Error, Equatable, CustomStringConvertible {
    /// A Content-Encoding this client does not decode.
    case unsupported(String)
    /// The bytes are not valid in the coding (`detail` is the library's word for it).
    case corrupt(ContentCoding, detail: String)
    /// The body ended inside the encoded stream.
    case truncated(ContentCoding)
    /// Bytes follow the end of the encoded stream.
    case trailingGarbage(ContentCoding)
    /// The decoded body passed `DecompressionLimits.maxDecodedBytes`.
    case tooLarge(limit: UInt64)
    /// The decoded body grew more than `DecompressionLimits.maxRatio` times the encoded one.
    case ratioExceeded(limit: UInt64)

    /// A one-line, human-readable account of the error, for logs and messages.
    public var description: String {
        switch self {
        case .unsupported(let value): return "unsupported Content-Encoding \(value.debugDescription)"
        case .corrupt(let coding, let detail): return "the \(coding) body is corrupt: \(detail)"
        case .truncated(let coding): return "the \(coding) body ended before its end-of-stream"
        case .trailingGarbage(let coding): return "bytes follow the end of the \(coding) stream"
        case .tooLarge(let limit): return "the decoded body is larger than the limit of \(limit) bytes"
        case .ratioExceeded(let limit):
            return "the body decodes to more than \(limit) times its size (a decompression bomb?)"
        }
    }
}
