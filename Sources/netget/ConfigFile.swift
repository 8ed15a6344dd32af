import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// netget's config files: options as on the command line, read before it so that the command
/// line wins.
///
/// Where: `$XDG_CONFIG_HOME/netget/config`, else `~/.config/netget/config` (skipped, silently,
/// when it is not there; `--no-config` skips it), then each `--config FILE` in order (each must
/// exist). Their options come before the command line's, so for an option that takes one value
/// the command line's wins (argument-parser keeps the last value given); a repeatable option
/// (`-H`, `--secret-header`) adds the command line's values to the files'. A flag a file sets is
/// cleared on the command line by its `--no-` form where it has one (`--no-continue`,
/// `--no-quiet`, `--no-json`, `--no-compressed`), else only by `--no-config`.
///
/// A line holds one or more options, split into words as a shell would in simple cases:
/// spaces and tabs separate words; `'...'` keeps everything inside as it is; `"..."` too, except
/// that `\"` and `\\` stand for `"` and `\`; outside quotes a backslash keeps the next character
/// as it is; a `#` that starts a word starts a comment to the end of the line. No variables,
/// no `~`, no line continuation. A line must start with an option (`-x 4`, `--retries=10`):
/// URLs belong on the command line or in an `-i` list, so a config file cannot make every run
/// download something. `--config`, `--no-config`, `--help` and `--version` are refused there.
/// Pure but for reading files and the environment: any thread.
enum ConfigFile {
    /// The default config file's path: `$XDG_CONFIG_HOME/netget/config` when the variable is an
    /// absolute path (the XDG rule: a relative one is ignored), else `$HOME/.config/netget/config`;
    /// nil when neither is set.
    static func defaultPath(environment: (String) -> String? = ConfigFile.variable) -> String? {
        if let base = environment("XDG_CONFIG_HOME"), base.hasPrefix("/") { return Plan.join(base, "netget/config") }
        if let home = environment("HOME"), !home.isEmpty { return Plan.join(home, ".config/netget/config") }
        return nil
    }

    /// A variable of the process's environment; nil when unset or empty.
    static func variable(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// The arguments the config files give, in the order they apply (the default file's first).
    /// - Parameters:
    ///   - explicit: the `--config` files, in command-line order.
    ///   - readDefault: false with `--no-config`.
    /// - Throws: `UsageError` naming the file (and the line) that cannot be read or is wrong.
    static func arguments(explicit: [String], readDefault: Bool, defaultPath: String? = ConfigFile.defaultPath()) throws -> [String] {
        var files: [(path: String, required: Bool)] = []
        if readDefault, let path = defaultPath { files.append((path, false)) }
        files += explicit.map { ($0, true) }
        var arguments: [String] = []
        for (path, required) in files {
            guard let bytes = FileSystemCalls.readSmallFile(path, limit: 1 << 20) else {
                let code = errno
                if !required && code == ENOENT { continue }
                throw UsageError("config file \(path): \(String(cString: strerror(code)))")
            }
            arguments += try parse(String(decoding: bytes, as: UTF8.self), source: path)
        }
        return arguments
    }

    /// One file's arguments; each line is checked alone, so that an error names its line.
    /// - Parameter source: the file's path, for errors.
    /// - Throws: `UsageError` "config file PATH line N: ...".
    static func parse(_ text: String, source: String) throws -> [String] {
        var arguments: [String] = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, line) in lines.enumerated() {
            func failure(_ reason: String) -> UsageError { UsageError("config file \(source) line \(index + 1): \(reason)") }
            let words: [String]
            do { words = try split(String(line)) } catch let error as UsageError { throw failure(error.description) }
            guard let first = words.first else { continue }
            guard first.hasPrefix("-"), first != "-" else {
                throw failure("\(first.debugDescription) is not an option: URLs go on the command line or in an -i list")
            }
            for word in words {
                let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
                if ["--config", "--no-config", "--help", "-h", "--version"].contains(name) {
                    throw failure("\(name) works on the command line only")
                }
            }
            let parsed: NetgetCommand
            do {
                parsed = try NetgetCommand.parse(words)
            } catch {
                throw failure(NetgetCommand.message(for: error))
            }
            if let url = parsed.urls.first {
                throw failure("\(url.debugDescription) is not an option: URLs go on the command line or in an -i list")
            }
            arguments += words
        }
        return arguments
    }

    /// A line split into words (see the type's comment for the rules).
    /// - Throws: `UsageError` for an unclosed quote or a backslash at the end of the line.
    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t", "\r":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "#" where !inWord:
                return words
            case "'":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "'" {
                        closed = true
                        break
                    }
                    word.append(next)
                }
                guard closed else { throw UsageError("a ' is not closed") }
            case "\"":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "\"" {
                        closed = true
                        break
                    }
                    if next == "\\" {
                        guard let escaped = iterator.next() else { break }
                        if escaped != "\"" && escaped != "\\" { word.append("\\") }
                        word.append(escaped)
                    } else {
                        word.append(next)
                    }
                }
                guard closed else { throw UsageError("a \" is not closed") }
            case "\\":
                guard let escaped = iterator.next() else { throw UsageError("a backslash ends the line (no line continuation)") }
                inWord = true
                word.append(escaped)
            default:
                inWord = true
                word.append(character)
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
