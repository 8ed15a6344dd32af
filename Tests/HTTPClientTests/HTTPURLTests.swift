import Testing

@testable import HTTPClient

@Suite struct HTTPURLTests {
    @Test func partsOfAnAbsoluteURL() throws {
        let url = try HTTPURL("HTTPS://Example.COM:8443/a/b?q=1#frag")
        #expect(url.scheme == "https")
        #expect(url.host == "example.com")
        #expect(url.port == 8443)
        #expect(url.target == "/a/b?q=1")
        #expect(url.authority == "example.com:8443")
        #expect(try HTTPURL("http://h").target == "/")
        #expect(try HTTPURL("http://h?x=1").target == "/?x=1")
        #expect(try HTTPURL("http://h:80/").authority == "h")
        let v6 = try HTTPURL("http://[::1]:8080/x")
        #expect(v6.host == "::1")
        #expect(v6.authority == "[::1]:8080")
        #expect(v6.hostIsIPLiteral)
        #expect(try HTTPURL("http://127.0.0.1/").hostIsIPLiteral)
        #expect(try !HTTPURL("http://localhost/").hostIsIPLiteral)
        #expect(try HTTPURL("http://h/a b").target == "/a%20b", "spaces are encoded, not sent raw")
    }

    @Test(arguments: [
        ("example.com/path", "not an absolute URL (expected scheme://host/path)"),
        ("http:///path", "no host"),
        ("http://h:0/", "invalid port \"0\" (1-65535)"),
        ("http://h:65536/", "invalid port \"65536\" (1-65535)"),
        ("http://h:8x/", "invalid port \"8x\" (1-65535)"),
        ("http://h:/", "invalid port \"\" (1-65535)"),
        ("http://ho st/", "invalid host name \"ho st\""),
        ("http://[::1/", "unclosed '[' in the IPv6 host"),
        ("http://us:p%zz@h/", "a bad %-escape in the credentials"),
        ("http://u%3Ax:p@h/", "bad credentials in the URL: a Basic user name cannot contain ':'"),
        ("http://u:%FF@h/", "credentials that are not UTF-8"),
        ("http://h/\r\nX: y", "control character 0xd in the URL"),
        ("http://h/\u{0}", "control character 0x0 in the URL"),
    ])
    func malformedURLsSayWhy(text: String, reason: String) {
        #expect(throws: HTTPClientError.invalidURL(text, reason: reason)) { try HTTPURL(text) }
    }

    // RFC 3986 §3.1: a reference has a scheme when it starts with ALPHA *( ALPHA / DIGIT /
    // "+" / "-" / "." ) ":" — such a Location is absolute, and only http and https are followed.
    @Test(arguments: [("a:b", "a"), ("mailto:x", "mailto"), ("MAILTO:x@y", "mailto"), ("ftp://h/f", "ftp"), ("a+b.c-d:x", "a+b.c-d")])
    func aReferenceWithAnotherSchemeIsRefused(reference: String, scheme: String) throws {
        let base = try HTTPURL("http://h/a/b/c?q")
        #expect(throws: HTTPClientError.unsupportedScheme(scheme)) { try base.resolving(reference) }
    }

    // RFC 3986 §3.1: "Although schemes are case-insensitive, the canonical form is lowercase".
    @Test func theSchemeIsCaseInsensitive() throws {
        #expect(try HTTPURL("HTTP://h/").scheme == "http")
        #expect(try HTTPURL("hTtPs://h/").scheme == "https")
        #expect(try HTTPURL("hTtPs://h/").port == 443)
        #expect(throws: HTTPClientError.invalidURL("localhost:8080/x", reason: "not an absolute URL (expected scheme://host/path)")) {
            try HTTPURL("localhost:8080/x")
        }
    }

    @Test func otherSchemesAreRefused() {
        #expect(throws: HTTPClientError.unsupportedScheme("ftp")) { try HTTPURL("ftp://h/f") }
        #expect(throws: HTTPClientError.unsupportedScheme("file")) { try HTTPURL("file:///etc/passwd") }
    }

    @Test(arguments: [
        ("http://other:81/x", "http://other:81/x"),
        ("//cdn.example/y", "http://cdn.example/y"),
        ("/root?z=1", "http://h/root?z=1"),
        ("?only=query", "http://h/a/b/c?only=query"),
        ("sibling", "http://h/a/b/sibling"),
        ("../up", "http://h/a/up"),
        ("../../../../top", "http://h/top"),
        ("./here/", "http://h/a/b/here/"),
        ("", "http://h/a/b/c?q"),
        ("x#frag", "http://h/a/b/x"),
        // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), followed by ":";
        // §4.3: only then is the reference absolute. "://" later on is path or query data.
        ("/login?next=https://x/", "http://h/login?next=https://x/"),
        ("?next=http://x/", "http://h/a/b/c?next=http://x/"),
        ("next/http://x", "http://h/a/b/next/http://x"),
        ("//host/path", "http://host/path"),
        ("?q", "http://h/a/b/c?q"),
        ("../x", "http://h/a/x"),
        // §3.1: "schemes are case-insensitive".
        ("HTTPS://Other.Example/p", "https://other.example/p"),
        ("Http://h2/", "http://h2/"),
    ])
    func referencesResolveAsRFC3986Says(reference: String, expected: String) throws {
        let base = try HTTPURL("http://h/a/b/c?q")
        #expect(try base.resolving(reference).description == expected)
    }

    // Found by the http-url fuzz target: "/", "?", "#" and "." were looked for as Swift
    // Characters, and a combining mark joins the one before it into a Character that is none
    // of them, so a dot segment survived resolution and a fragment went into the target.
    @Test(arguments: [
        ("x/./\u{335}y", "http://h/a/b/x/%CC%B5y"),
        ("../\u{301}x", "http://h/a/%CC%81x"),
        ("/p/../\u{301}", "http://h/%CC%81"),
        ("q#\u{301}frag", "http://h/a/b/q"),
        ("//other/\u{301}", "http://other/%CC%81"),
    ])
    func aCombiningMarkAfterADelimiterLeavesTheDelimiter(reference: String, expected: String) throws {
        let base = try HTTPURL("http://h/a/b/c?q")
        #expect(try base.resolving(reference).description == expected)
    }

    @Test func aCombiningMarkAfterTheFragmentMarkStaysOutOfTheTarget() throws {
        #expect(try HTTPURL("http://h/p#\u{301}frag").target == "/p")
        #expect(try HTTPURL("http://h//\u{301}x").target == "//%CC%81x")
        let credential = try HTTPURL("http://\u{fc}ser:p\u{e4}ss@h/").credential
        #expect(credential?.user == "\u{fc}ser" && credential?.password == "p\u{e4}ss")
    }
}
