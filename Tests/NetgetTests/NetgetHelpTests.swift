import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// --help grouped by topic with each default once, shell completion scripts, and the tool
/// description the man page is generated from (issue 15 point 10).
@Suite("netget help, completions and manual")
struct NetgetHelpTests {
    /// The sections of --help in order, and an option each must hold.
    static let sections: [(title: String, option: String)] = [
        ("OUTPUT:", "--output"), ("CONNECTION:", "--engine"), ("RETRIES:", "--retries"), ("VERIFICATION:", "--checksum"),
        ("DISPLAY:", "--quiet"), ("OPTIONS:", "--config"),
    ]

    @Test("--help is grouped (output, connection, retries, verification, display) and prints each default once")
    func groupedHelp() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let help = try await netget(["--help"], in: directory)
        #expect(help.exitCode == 0)
        let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var previous = -1
        for (title, option) in Self.sections {
            guard let index = lines.firstIndex(of: title) else {
                Issue.record("no \(title) section in --help:\n\(help.stdout)")
                continue
            }
            #expect(index > previous, "\(title) is out of order")
            previous = index
            // The section runs to the next blank line; the option is listed in it.
            let section = lines[(index + 1)...].prefix { !$0.isEmpty }
            #expect(
                section.contains { $0.drop { $0 == " " }.hasPrefix(option) || $0.contains(", \(option)") }, "\(option) not in \(title)")
        }
        // An option's entry (its first line and the indented ones after it) says its default once.
        var entry = ""
        var entries: [String] = []
        for line in lines[(lines.firstIndex(of: "OUTPUT:") ?? 0)...] {
            if line.hasPrefix("  -") {
                entries.append(entry)
                entry = line
            } else {
                entry += " " + line.drop { $0 == " " }
            }
        }
        entries.append(entry)
        for text in entries {
            let count = text.split(separator: "default", omittingEmptySubsequences: false).count - 1
            #expect(count <= 1, "a default printed twice: \(text)")
        }
        #expect(entries.contains { $0.contains("--retries") && $0.contains("(default: 5)") })
    }

    @Test("--generate-completion-script prints a script for bash, zsh and fish that knows the options", arguments: ["bash", "zsh", "fish"])
    func completionScript(shell: String) async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let result = try await netget(["--generate-completion-script", shell], in: directory)
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.contains("netget"))
        for option in ["checksum", "connections", "no-config", "engine"] {
            #expect(result.stdout.contains(option), "\(shell) completion lacks --\(option)")
        }
        if shell == "bash" {
            // The script is valid bash: bash -n parses it without running it.
            let path = directory + "/netget.bash"
            try writeFile(path, Array(result.stdout.utf8))
            let check = try await runTool("/bin/bash", ["-n", path], in: directory)
            #expect(check.exitCode == 0, "bash -n: \(check.stderr)")
        }
    }

    @Test("the description the man page is made from (--experimental-dump-help) holds every group and the exit table")
    func manualSource() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTree(directory) }
        let dump = try await netget(["--experimental-dump-help"], in: directory)
        #expect(dump.exitCode == 0, "stderr: \(dump.stderr)")
        for text in ["\"sectionTitle\" : \"Connection\"", "\"sectionTitle\" : \"Verification\"", "EXIT STATUS", "\"name\" : \"sha256\""] {
            #expect(dump.stdout.contains(text), "the dump lacks \(text)")
        }
    }
}
