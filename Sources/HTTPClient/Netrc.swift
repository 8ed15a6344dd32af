/// A parsed `.netrc` file, with curl's rules (`curl -n`): `machine NAME` starts an entry,
/// `default` starts the entry for every other host, `login` and `password` fill the current
/// entry, `account` is read and ignored, `macdef NAME` skips its macro up to the next empty
/// line, `#` starts a comment up to the end of the line. A token is a run of non-blank bytes
/// or a double-quoted string with `\"`, `\\`, `\n`, `\r` and `\t` escapes (curl 7.84 and
/// later). Unknown words are skipped, as ftp's and curl's parsers do.
///
/// Pure, standard library only (the fuzz target compiles this file alone). Any thread; O(n).
public struct Netrc: Sendable, Equatable {
    /// One `machine` or `default` entry, with what the file gave for it.
    public struct Entry: Sendable, Equatable {
        /// The host this entry is for; nil for `default`.
        public var machine: String?
        /// The user name (`login`); nil when the entry has none. A later `login` replaces it.
        public var login: String?
        /// The password; nil when the entry has none. A later `password` replaces it.
        public var password: String?
    }

    /// The entries in file order (lookups take the first that matches).
    public var entries: [Entry]

    /// - Throws: `NetrcError` for a keyword without its value, an unterminated quoted token,
    ///   `login`/`password` before any `machine` or `default`, or bytes that are not UTF-8.
    public init(parsing bytes: some Collection<UInt8>) throws(NetrcError) {
        var scanner = NetrcScanner(Array(bytes))
        var entries: [Entry] = []
        while let word = try scanner.nextToken() {
            switch word {
            case "machine":
                entries.append(Entry(machine: try scanner.value(for: "machine")))
            case "default":
                entries.append(Entry(machine: nil))
            case "login", "password":
                let value = try scanner.value(for: word)
                guard !entries.isEmpty else {
                    throw NetrcError(line: scanner.line, message: "'\(word)' before any 'machine' or 'default'")
                }
                if word == "login" { entries[entries.count - 1].login = value } else { entries[entries.count - 1].password = value }
            case "account":
                _ = try scanner.value(for: word)
            case "macdef":
                _ = try scanner.value(for: word)
                scanner.skipMacro()
            default:
                continue
            }
        }
        self.entries = entries
    }

    /// The entry for `host` (compared without case): the first `machine` entry for it (with
    /// `login` when one is given), else the `default` entry (with that login, if given), else nil.
    public func entry(forHost host: String, login: String? = nil) -> Entry? {
        let host = host.lowercased()
        let matchesLogin = { (entry: Entry) in login == nil || entry.login == login }
        if let entry = entries.first(where: { $0.machine?.lowercased() == host && matchesLogin($0) }) { return entry }
        return entries.first { $0.machine == nil && matchesLogin($0) }
    }
}

/// A `.netrc` that cannot be read as one; `line` is 1-based.
public struct NetrcError: Error, Equatable, CustomStringConvertible {
    /// The line the problem is on, counting from 1.
    public var line: Int
    /// What is wrong there, for a person (the file's secrets are not quoted).
    public var message: String
    /// `.netrc line N: message`.
    public var description: String { ".netrc line \(line): \(message)" }
}

/// Splits a `.netrc` into tokens, counting lines for errors.
struct NetrcScanner {
    private let bytes: [UInt8]
    private var index = 0
    private(set) var line = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    /// The next token, nil at the end. - Throws: `NetrcError` for an unterminated quote or
    /// bytes that are not UTF-8.
    mutating func nextToken() throws(NetrcError) -> String? {
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "#") {
                while index < bytes.count && bytes[index] != 0x0A { index += 1 }
            } else if Self.isBlank(bytes[index]) {
                if bytes[index] == 0x0A { line += 1 }
                index += 1
            } else {
                break
            }
        }
        guard index < bytes.count else { return nil }
        var token: [UInt8] = []
        if bytes[index] == UInt8(ascii: "\"") {
            index += 1
            while true {
                guard index < bytes.count, bytes[index] != 0x0A else {
                    throw NetrcError(line: line, message: "a quoted token without its closing quote")
                }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\"), index < bytes.count {
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "n"): token.append(0x0A)
                    case UInt8(ascii: "r"): token.append(0x0D)
                    case UInt8(ascii: "t"): token.append(0x09)
                    default: token.append(escaped)
                    }
                } else {
                    token.append(byte)
                }
            }
        } else {
            while index < bytes.count && !Self.isBlank(bytes[index]) {
                token.append(bytes[index])
                index += 1
            }
        }
        guard let text = String(validating: token, as: UTF8.self) else {
            throw NetrcError(line: line, message: "a token that is not UTF-8")
        }
        return text
    }

    /// The token after `keyword`. - Throws: `NetrcError` when the file ends first.
    mutating func value(for keyword: String) throws(NetrcError) -> String {
        guard let value = try nextToken() else { throw NetrcError(line: line, message: "'\(keyword)' without its value") }
        return value
    }

    /// Skips a macro's body: everything up to and including the next empty line.
    mutating func skipMacro() {
        var previousWasNewline = false
        // The rest of the macdef line is not part of the body.
        while index < bytes.count && bytes[index] != 0x0A { index += 1 }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == 0x0A {
                line += 1
                if previousWasNewline { return }
                previousWasNewline = true
            } else if byte != 0x0D {
                previousWasNewline = false
            }
        }
    }
}
