import Testing

@testable import HTTPClient

/// `.netrc` parsing and lookup with curl's rules (`curl -n`).
@Suite(".netrc")
struct NetrcTests {
    func parse(_ text: String) throws -> Netrc { try Netrc(parsing: Array(text.utf8)) }

    @Test("machine, login and password on one line or many; default for the rest; first match wins")
    func lookup() throws {
        let netrc = try parse(
            """
            # a comment
            machine example.org login alice password one
            machine Example.org login bob password two   # a trailing comment
            machine
                other.example
                login carol
                password three
            default login anon password guest
            """)
        #expect(netrc.credential(forHost: "EXAMPLE.org") == (try HTTPCredential(user: "alice", password: "one")))
        #expect(netrc.credential(forHost: "example.org", login: "bob") == (try HTTPCredential(user: "bob", password: "two")))
        #expect(netrc.credential(forHost: "other.example") == (try HTTPCredential(user: "carol", password: "three")))
        #expect(netrc.credential(forHost: "unknown.example") == (try HTTPCredential(user: "anon", password: "guest")))
        // A login no entry has: not even default matches.
        #expect(netrc.credential(forHost: "example.org", login: "mallory") == nil)
    }

    @Test("quoted tokens with escapes; account is ignored; macdef skips its body up to the empty line")
    func quotingAndMacros() throws {
        let netrc = try parse(
            "macdef init\ncd /pub\nmachine trap login x password y\n\n"
                + "machine h account acct login \"a b\" password \"p\\\"w\\\\d\\n\"\n")
        #expect(netrc.entries.count == 1, "the machine line inside the macro is not an entry")
        #expect(netrc.credential(forHost: "h") == nil, "a password with a newline is refused: it would end the header")
        #expect(netrc.entries.first?.login == "a b")
        #expect(netrc.entries.first?.password == "p\"w\\d\n")
    }

    @Test("an entry without a password gives no credential; no entry and no default gives none")
    func incompleteEntries() throws {
        let netrc = try parse("machine h login alice\n")
        #expect(netrc.credential(forHost: "h") == nil)
        #expect(try parse("machine h login a password b").credential(forHost: "g") == nil)
        #expect(try parse("").entries.isEmpty)
    }

    @Test(
        "errors name the line",
        arguments: [
            ("machine h login a\npassword", NetrcError(line: 2, message: "'password' without its value")),
            ("\n\nlogin a", NetrcError(line: 3, message: "'login' before any 'machine' or 'default'")),
            ("machine h password \"open\nmore\"", NetrcError(line: 1, message: "a quoted token without its closing quote")),
            ("machine \u{FF}", NetrcError(line: 1, message: "a token that is not UTF-8")),
        ])
    func errors(text: String, expected: NetrcError) {
        let bytes = text == "machine \u{FF}" ? Array("machine ".utf8) + [0xFF] : Array(text.utf8)
        #expect(throws: expected) { try Netrc(parsing: bytes) }
    }
}
