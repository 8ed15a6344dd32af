/// One URL of a list file (`-i`), with the options its indented lines gave it.
struct URLListEntry {
    /// The URL as written (checked later, with the line named in the error).
    var url: String
    /// The line the URL is on (from 1), for error messages.
    var line: Int
    /// `out=`: the file name, relative to `dir` (else -d, else the current directory).
    var out: String?
    /// `dir=`: the directory for this URL's file (made if missing).
    var dir: String?
    /// The first `out=` or `dir=` and its line, for the error when -o conflicts with it.
    var placement: (key: String, line: Int)?
    /// `checksum=TYPE=HEX`.
    var checksum: Checksum?
    /// `header=Name: value` lines, in order.
    var headers: [(String, String)] = []
}

/// A URL list in aria2's input-file form (aria2c --input-file): a line holds a URL; the lines
/// after it that start with a space or a tab hold `key=value` options for that URL
/// (`out=`, `dir=`, `checksum=TYPE=HEX`, `header=`, which may repeat); blank lines and lines
/// starting with `#` are skipped. A plain list, one URL per line, is a list without options.
///
/// aria2 allows several tab-separated mirrors of one file on a URL line; netget takes one URL
/// a line and refuses a second one. An indented line that is a URL (`http://...` or
/// `https://...`) is a URL line, not an option, so lists indented by hand keep working: no
/// option name holds "://". Pure: any thread.
enum URLList {
    /// The option names understood, for error messages.
    static let optionNames = "out=, dir=, checksum= and header="

    /// Parses a list's text.
    /// - Parameter source: how errors name the list ("-i urls.txt").
    /// - Throws: `UsageError` naming the source and the line (from 1): an option line before any
    ///   URL, a line that is not `key=value`, an unknown key, an empty or repeated `out=` or
    ///   `dir=`, a bad checksum or header, two URLs on one line.
    static func parse(_ text: String, source: String) throws -> [URLListEntry] {
        var entries: [URLListEntry] = []
        // "\r\n" is one Character in Swift: both end a line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, rawLine) in lines.enumerated() {
            let number = index + 1
            let line = String(rawLine).trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            func refuse(_ reason: String) -> UsageError { UsageError("\(source) line \(number): \(reason)") }
            let indented = rawLine.first == " " || rawLine.first == "\t"
            if !indented || looksLikeURL(line) {
                if line.contains("\t") {
                    throw refuse(
                        "one URL a line (netget does not take aria2's tab-separated mirrors); options go on the indented lines after it")
                }
                if line.contains(" ") { throw refuse("a URL holds no space (write it as %20): \(line.debugDescription)") }
                entries.append(URLListEntry(url: line, line: number))
                continue
            }
            guard !entries.isEmpty else { throw refuse("an option line (indented) before any URL") }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                throw refuse("an indented line holds an option, key=value (\(optionNames)), not \(line.debugDescription)")
            }
            let key = String(line[..<equals]).trimmingCharacters(in: " \t")
            let value = String(line[line.index(after: equals)...])
            var entry = entries[entries.count - 1]
            switch key {
            case "out", "dir":
                guard !value.isEmpty else { throw refuse("\(key)= needs a value") }
                if (key == "out" ? entry.out : entry.dir) != nil { throw refuse("\(key)= given twice for \(entry.url)") }
                if key == "out" { entry.out = value } else { entry.dir = value }
                entry.placement = entry.placement ?? (key + "=", number)
            case "checksum":
                if entry.checksum != nil { throw refuse("checksum= given twice for \(entry.url)") }
                do { entry.checksum = try Checksum(parsing: value) } catch { throw refuse("checksum=: \(error)") }
            case "header":
                do { entry.headers.append(try parseHeader(value)) } catch { throw refuse("header=: \(error)") }
            default:
                throw refuse("unknown option \(key.debugDescription) (\(optionNames) are understood)")
            }
            entries[entries.count - 1] = entry
        }
        return entries
    }

    /// Whether `text` starts with an http or https scheme (any case).
    private static func looksLikeURL(_ text: String) -> Bool {
        let lower = text.prefix(8).lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }
}

/// A header as `-H` and `header=` take it: "Name: value" (the spaces after the colon dropped).
/// - Throws: `HeaderSyntaxError` when there is no name before a colon.
func parseHeader(_ line: String) throws(HeaderSyntaxError) -> (String, String) {
    guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
        throw HeaderSyntaxError("takes 'Name: value', not \(line.debugDescription)")
    }
    let value = line[line.index(after: colon)...].drop { $0 == " " }
    return (String(line[..<colon]), String(value))
}

/// Why a header's text was refused (a usage error once its source is named).
struct HeaderSyntaxError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
