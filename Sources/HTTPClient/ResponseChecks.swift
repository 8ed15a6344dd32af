/// Checks on a final response head that both engines make the same way.
enum ResponseChecks {
    /// Validates a range answer. - Returns: the parsed Content-Range of a 206, else nil.
    /// - Throws: `HTTPClientError.rangeNotSatisfiable` for 416; `.invalidContentRange` for a
    ///   206 that is multipart, lacks Content-Range, disagrees with its Content-Length, or is
    ///   not the range that was asked for, or answers a request that asked for no range.
    static func contentRange(of head: HTTPResponseHead, for request: HTTPRequest) throws -> ContentRange? {
        if head.status == 416 {
            throw HTTPClientError.rangeNotSatisfiable(
                completeLength: head.headers.first("Content-Range").flatMap(ContentRange.unsatisfiedLength))
        }
        guard head.status == 206 else { return nil }
        // A part nobody asked for would be written at offset 0 as if it were the whole file.
        guard request.range != nil else {
            throw HTTPClientError.invalidContentRange("206 Partial Content to a request that asked for no range")
        }
        if let type = head.headers.first("Content-Type"), type.lowercased().hasPrefix("multipart/byteranges") {
            throw HTTPClientError.invalidContentRange("multipart/byteranges responses are not supported (one range per request)")
        }
        guard let value = head.headers.first("Content-Range") else {
            throw HTTPClientError.invalidContentRange("206 without a Content-Range header")
        }
        let range = try ContentRange(parsing: value)
        if let length = head.contentLength, UInt64(length) != range.count {
            throw HTTPClientError.invalidContentRange("Content-Length \(length) does not match \(range)")
        }
        if let requested = request.range { try range.validate(against: requested) }
        return range
    }
}
