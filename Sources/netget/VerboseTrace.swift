import HTTPClient

/// -v: the request and response heads on standard error, as curl -v prints them (`> ` for what
/// was sent, `< ` for what arrived, a line each, then a line with the prefix alone), with the
/// values of Authorization and Proxy-Authorization replaced by `<hidden>` (curl shows them).
/// Called from `HTTPClientConfiguration.headObserver` on the exchange's thread: it builds the
/// text and writes it with one write(2) call per head, which keeps a head in one piece.
enum VerboseTrace {
    /// Fields whose values are never printed.
    static let hiddenFields: Set<String> = ["authorization", "proxy-authorization"]

    static func write(_ event: HTTPHeadEvent) {
        writeStandardError(text(event))
    }

    /// The lines for one head.
    static func text(_ event: HTTPHeadEvent) -> String {
        var lines: [String]
        let prefix: String
        switch event {
        case .request(_, let head):
            prefix = "> "
            lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: true).map { line in
                guard let colon = line.firstIndex(of: ":"), hiddenFields.contains(line[..<colon].lowercased()) else {
                    return String(line)
                }
                return line[..<colon] + ": <hidden>"
            }
        case .response(_, let head):
            prefix = "< "
            let version = head.version.hasPrefix("HTTP/") ? head.version : "HTTP/" + head.version
            lines = ["\(version) \(head.status) \(head.reason)".trimmingTrailingSpaces]
            for field in head.headers { lines.append("\(field.name): \(field.value)") }
        }
        return lines.map { prefix + $0 + "\n" }.joined() + prefix.trimmingTrailingSpaces + "\n"
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
