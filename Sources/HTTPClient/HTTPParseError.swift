/// What was wrong with bytes that came off the network, named precisely. Never a crash.
public enum HTTPParseError: Error, Equatable, CustomStringConvertible {
    case malformedStatusLine(String)
    case unsupportedVersion(String)
    case invalidStatusCode(String)
    case malformedHeaderLine(String)
    /// obs-fold (a line that starts with whitespace) with no field before it to continue.
    case obsoleteLineFolding
    /// Whitespace between a field name and its colon (RFC 9112 §5.1 says reject).
    case whitespaceBeforeColon(String)
    case invalidHeaderName(String)
    case invalidHeaderValue(name: String)
    case invalidContentLength(String)
    case conflictingContentLengths([String])
    case unsupportedTransferEncoding(String)
    case invalidChunkSize(String)
    case malformedChunk(String)
    case bareCarriageReturn
    case lineTooLong(limit: Int)
    case headersTooLarge(limit: Int)
    case tooManyHeaders(limit: Int)
    case switchingProtocolsNotRequested
    /// More interim (1xx) responses than `HTTPResponseParser.maxInterimResponses` before the final one.
    case tooManyInterimResponses(limit: Int)
    /// The stream ended before the message did.
    case truncated(String)
    /// Bytes after a message on a connection that was to close, or garbage where a message should start.
    case dataAfterEndOfMessage

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
