import HTTPClient

/// -v: the request and response heads on standard error, as curl -v prints them (`> ` for what
/// was sent, `< ` for what arrived, a line each, then a line with the prefix alone), with the
/// values of the credential fields replaced by `<hidden>` (curl shows them): netget's own
/// credential headers (Authorization, Proxy-Authorization, Cookie, and the --secret-header
/// names), and a server's Set-Cookie, so that a pasted -v log gives no session away.
/// Called from `HTTPClientConfiguration.headObserver` on the exchange's thread: it builds the
/// text and writes it with one write(2) call per head, which keeps a head in one piece.
enum VerboseTrace {
    /// Fields whose values are never printed, lower-cased; --secret-header names are added.
    static let hiddenFields: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

    /// - Parameter secretHeaders: the --secret-header names, hidden too.
    static func write(_ event: HTTPHeadEvent, secretHeaders: Set<String> = []) {
        writeStandardError(text(event, hiding: hiddenFields.union(secretHeaders.map { $0.lowercased() })))
    }

    /// The lines for one head, with the values of the `hiding` fields (lower-cased) hidden.
    static func text(_ event: HTTPHeadEvent, hiding: Set<String> = hiddenFields) -> String {
        var lines: [String]
        let prefix: String
        func line(_ name: Substring, _ value: Substring) -> String {
            hiding.contains(name.lowercased()) ? name + ": <hidden>" : name + ": " + value
        }
        switch event {
        case .request(_, let head):
            prefix = "> "
            lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: true).map { text in
                guard let colon = text.firstIndex(of: ":") else { return String(text) }
                return line(text[..<colon], text[text.index(after: colon)...].drop { $0 == " " })
            }
        case .response(_, let head):
            prefix = "< "
            let version = head.version.hasPrefix("HTTP/") ? head.version : "HTTP/" + head.version
            lines = ["\(version) \(head.status) \(head.reason)".trimmingTrailingSpaces]
            for field in head.headers { lines.append(line(Substring(field.name), Substring(field.value))) }
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
