/// What was wrong with bytes that came off the network, named precisely. Never a crash.
public enum HTTPParseError: Error, Equatable, CustomStringConvertible {
    /// The status line is not `HTTP/x.y SP code [SP reason]`, its reason holds control
    /// characters, or more empty lines than the parser tolerates came before it; carries the line.
    case malformedStatusLine(String)
    /// A version other than HTTP/1.1 or HTTP/1.0 (this parser speaks HTTP/1.x only); carries it.
    case unsupportedVersion(String)
    /// The status code is not three digits in 100-599 followed by a space or the end of the
    /// line; carries what stood there.
    case invalidStatusCode(String)
    /// A header line with no colon; carries the line.
    case malformedHeaderLine(String)
    /// obs-fold (a line that starts with whitespace) with no field before it to continue.
    case obsoleteLineFolding
    /// Whitespace between a field name and its colon (RFC 9112 §5.1 says reject).
    case whitespaceBeforeColon(String)
    /// A field name that is empty or holds a character outside RFC 9110's token; carries the name.
    case invalidHeaderName(String)
    /// A field value (or its obs-fold continuation) holds a control character other than HTAB,
    /// or DEL; carries the field's name only, as the value may be a credential.
    case invalidHeaderValue(name: String)
    /// A Content-Length that is not all digits, or overflows `UInt64`; carries the value.
    case invalidContentLength(String)
    /// Several Content-Length values that differ (a request-smuggling sign, RFC 9112 §6.3); carries them.
    case conflictingContentLengths([String])
    /// A Transfer-Encoding that is not exactly `chunked` (another coding, a list, or an empty
    /// field); carries the field's values joined by ", ".
    case unsupportedTransferEncoding(String)
    /// A chunk-size line that is not strict `1*HEXDIG [chunk-ext]`, or a size that overflows
    /// `UInt64`; carries the line.
    case invalidChunkSize(String)
    /// A chunked body's framing is wrong elsewhere (chunk data not followed by CRLF); carries what.
    case malformedChunk(String)
    /// A CR inside a line, not followed by LF (RFC 9112 §2.2 lets a recipient reject it: we do).
    case bareCarriageReturn
    /// A line of the head or of the chunked framing is longer than `HTTPParserLimits.maxLineLength`
    /// (the limit, in bytes, without the CRLF).
    case lineTooLong(limit: Int)
    /// The header section (status line included) is larger than `HTTPParserLimits.maxHeaderBytes`.
    case headersTooLarge(limit: Int)
    /// More header fields than `HTTPParserLimits.maxHeaderCount`.
    case tooManyHeaders(limit: Int)
    /// A 101 Switching Protocols: the client never asks to upgrade, so it cannot follow one.
    case switchingProtocolsNotRequested
    /// More interim (1xx) responses than `HTTPResponseParser.maxInterimResponses` before the final one.
    case tooManyInterimResponses(limit: Int)
    /// The stream ended before the message did.
    case truncated(String)
    /// Bytes after a message on a connection that was to close, or garbage where a message should start.
    case dataAfterEndOfMessage

    /// One line for a person: what was wrong, with the offending text quoted.
    public var description: String {
        switch self {
        case .malformedStatusLine(let line): return "malformed status line: \(line.debugDescription)"
        case .unsupportedVersion(let version): return "unsupported HTTP version \(version.debugDescription) (HTTP/1.x only)"
        case .invalidStatusCode(let code): return "invalid status code \(code.debugDescription) (three digits 100-599)"
        case .malformedHeaderLine(let line): return "malformed header line: \(line.debugDescription)"
        case .obsoleteLineFolding: return "header line folding (obs-fold) with no header field before it to continue"
        case .whitespaceBeforeColon(let name): return "whitespace between header name \(name.debugDescription) and ':'"
        case .invalidHeaderName(let name): return "invalid header name \(name.debugDescription)"
        case .invalidHeaderValue(let name): return "invalid characters in the value of header \(name.debugDescription)"
        case .invalidContentLength(let value): return "invalid Content-Length \(value.debugDescription) (digits only, no overflow)"
        case .conflictingContentLengths(let values): return "conflicting Content-Length values \(values)"
        case .unsupportedTransferEncoding(let value) where value.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "," }):
            return "a Transfer-Encoding header field with no transfer coding in it"
        case .unsupportedTransferEncoding(let value): return "unsupported Transfer-Encoding \(value.debugDescription) (only chunked)"
        case .invalidChunkSize(let line): return "invalid chunk size line \(line.debugDescription)"
        case .malformedChunk(let detail): return "malformed chunked body: \(detail)"
        case .bareCarriageReturn: return "a CR not followed by LF"
        case .lineTooLong(let limit): return "a line is longer than the limit of \(limit) bytes"
        case .headersTooLarge(let limit): return "the header section is larger than the limit of \(limit) bytes"
        case .tooManyHeaders(let limit): return "more than \(limit) header fields"
        case .switchingProtocolsNotRequested: return "101 Switching Protocols without an upgrade request"
        case .tooManyInterimResponses(let limit): return "more than \(limit) interim (1xx) responses before the final response"
        case .truncated(let detail): return "the connection ended early: \(detail)"
        case .dataAfterEndOfMessage: return "unexpected bytes after the end of the message"
        }
    }
}
