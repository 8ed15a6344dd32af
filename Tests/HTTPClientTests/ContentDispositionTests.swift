import HTTPClient
import Testing

/// What netget would name the file: the parser's choice through the cleaner.
private func cleaned(_ header: String) -> String? {
    ContentDisposition.filename(header).flatMap { DownloadFileName.safe($0) }
}

/// Cases named after the greenbytes suite (http://test.greenbytes.de/tech/tc2231/) where they are its cases.
@Suite struct ContentDispositionTests {
    @Test(
        "valid fields and the name they give",
        arguments: [
            ("attachment; filename=\"foo.html\"", "foo.html"),  // attwithasciifilename
            ("inline; filename=\"foo.html\"", "foo.html"),  // inlwithasciifilename: the type does not matter
            ("attachment; filename=foo.html", "foo.html"),  // attwithasciifilenamenq
            ("ATTACHMENT; FILENAME=\"foo.html\"", "foo.html"),  // attonlyucase, attwithasciifilenameucase
            ("attachment; FileName=foo.html", "foo.html"),
            ("attachment; filename =\"foo.html\"", "foo.html"),  // attwithasciifilenamews1
            ("attachment;filename=foo.html", "foo.html"),
            ("  attachment \t;\t filename = \"foo.html\"  ", "foo.html"),
            ("attachment; filename=\"Here's a semicolon;.html\"", "Here's a semicolon;.html"),  // attwithquotedsemicolon
            ("attachment; filename=\"a;b=c\"; size=3", "a;b=c"),
            ("attachment; filename=\"f\\oo.html\"", "foo.html"),  // attwithasciifnescapedchar
            ("attachment; filename=\"\\\"quoting\\\" tested.html\"", "\"quoting\" tested.html"),  // attwithasciifnescapedquote
            ("attachment; filename=\"a\\\\b\"", "a\\b"),
            ("attachment; foo=\"bar\"; filename=\"foo.html\"", "foo.html"),  // attwithfilenameandextparam
            ("attachment; foo=\"\\\"\\\\\";filename=\"foo.html\"", "foo.html"),  // attwithfilenameandextparamescaped
            ("attachment; foobar=x; filename=\"foo.html\"", "foo.html"),  // attnewandfn
            ("attachment; filename='foo.bar'", "'foo.bar'"),  // attwithfntokensq: ' is a token character
            ("attachment; filename=\"foo-%41.html\"", "foo-%41.html"),  // attwithfnrawpctenca: no decoding in filename
            ("attachment; filename=\"50%.html\"", "50%.html"),  // attwithfnusingpct
            ("attachment; filename=\"foo-\u{E4}.html\"", "foo-\u{E4}.html"),  // attwithisofnplain (obs-text)
            ("attachment; filename=\"=?ISO-8859-1?Q?foo-=E4.html?=\"", "=?ISO-8859-1?Q?foo-=E4.html?="),  // attrfc2047quoted
            ("attachment; filename=\"tab\there\"", "tab\there"),
            ("foobar; filename=foo.html", "foo.html"),  // dispext
            ("attachment; filename=\"a.pdf\";", "a.pdf"),  // one trailing ";" is tolerated (see ContentDisposition)
            ("attachment; filename=foo.html ;", "foo.html"),  // attwithasciifilenamenqs: same leniency
        ])
    func valid(header: String, expected: String) {
        #expect(ContentDisposition.filename(header) == expected, "\(header)")
    }

    @Test(
        "filename* (RFC 8187 ext-value) in UTF-8 and ISO-8859-1",
        arguments: [
            ("attachment; filename*=UTF-8''%E2%82%AC%20rates.txt", "\u{20AC} rates.txt"),
            ("attachment; filename*=ISO-8859-1''%A3%20rates", "\u{A3} rates"),
            ("attachment; filename*=iso-8859-1''foo-%E4.html", "foo-\u{E4}.html"),  // attwithisofn2231iso
            ("attachment; filename*=UTF-8''foo-%c3%a4-%e2%82%ac.html", "foo-\u{E4}-\u{20AC}.html"),  // attwithfn2231utf8
            ("attachment; filename*=utf-8''foo-a%cc%88.html", "foo-a\u{308}.html"),  // attwithfn2231utf8comp
            ("attachment; filename*=UTF-8'en'%E2%82%AC", "\u{20AC}"),
            ("attachment; filename*=UTF-8'en-GB'x.txt", "x.txt"),
            ("attachment; filename*= UTF-8''foo-%c3%a4.html", "foo-\u{E4}.html"),  // attwithfn2231ws2
            ("attachment; filename* =UTF-8''foo-%c3%a4.html", "foo-\u{E4}.html"),  // attwithfn2231ws3
            ("attachment; FILENAME*=UTF-8''a.txt", "a.txt"),
            ("attachment; filename*=UTF-8''A-%2541.html", "A-%41.html"),  // attwithfn2231dpct
            ("attachment; filename*=UTF-8''%5cfoo.html", "\\foo.html"),  // attwithfn2231abspathdisguised (cleaned below)
            ("attachment; filename*=UTF-8''!#$&+-.^_`|~", "!#$&+-.^_`|~"),  // every attr-char
        ])
    func extendedValue(header: String, expected: String) {
        #expect(ContentDisposition.filename(header) == expected, "\(header)")
    }

    @Test(
        "filename* wins over filename when both are present and valid, in either order (RFC 6266 §4.3)",
        arguments: [
            "attachment; filename=\"foo-ae.html\"; filename*=UTF-8''foo-%c3%a4.html",  // attfnboth
            "attachment; filename*=UTF-8''foo-%c3%a4.html; filename=\"foo-ae.html\"",  // attfnboth2
            "attachment; filename=foo-ae.html; FILENAME*=utf-8''foo-%C3%A4.html",
        ])
    func precedence(header: String) {
        #expect(ContentDisposition.filename(header) == "foo-\u{E4}.html")
    }

    @Test(
        "an invalid filename* is ignored: filename is used, or there is no name",
        arguments: [
            "utf-8''foo-%E4.html",  // attwithfn2231iso-bad: not UTF-8
            "iso-8859-1''foo-%c3%a4-%e2%82%ac.html",  // attwithfn2231utf8-bad: 0x82 is no ISO-8859-1 character
            "''foo-%c3%a4-%e2%82%ac.html",  // attwithfn2231noc: no charset
            "UTF-8'foo-%c3%a4.html",  // attwithfn2231singleqmissing
            "UTF-8''foo%",  // attwithfn2231nbadpct1
            "UTF-8''f%oo.html",  // attwithfn2231nbadpct2
            "UTF-8''%e",
            "\"UTF-8''foo-%c3%a4.html\"",  // attwithfn2231quot: a quoted-string is no ext-value
            "\"foo%20bar.html\"",  // attwithfn2231quot2
            "ISO-8859-15''euro-sign%3d%a4",  // a charset we do not decode
            "windows-1252''a.txt",
            "foo.html",  // no quotes at all
            "UTF-8''a'b.txt",  // ' is a token character but no attr-char
            "UTF-8''a*b.txt",
            "UTF-8'e_n'a.txt",  // not a language tag
            "UTF-8''",  // decodes to nothing
        ])
    func invalidExtendedValue(value: String) {
        #expect(ContentDisposition.filename("attachment; filename*=\(value); filename=\"fallback.txt\"") == "fallback.txt", "\(value)")
        #expect(ContentDisposition.filename("attachment; filename=\"fallback.txt\"; filename*=\(value)") == "fallback.txt", "\(value)")
        #expect(ContentDisposition.filename("attachment; filename*=\(value)") == nil, "\(value)")
        #expect(ContentDisposition.parse("attachment; filename*=\(value)") != nil, "the field stays valid: \(value)")
    }

    @Test(
        "a parameter sent twice makes the field invalid (tc2231 attwith2filenames)",
        arguments: [
            "attachment; filename=\"foo.html\"; filename=\"bar.html\"",
            "attachment; filename=foo.html; FILENAME=foo.html",
            "attachment; filename*=UTF-8''a.txt; filename*=UTF-8''b.txt",
            "attachment; filename=a.txt; foo=1; Foo=2",
            "attachment; filename*=UTF-8''a.txt; filename=b.txt; filename*=UTF-8''a.txt",
        ])
    func duplicates(header: String) {
        #expect(ContentDisposition.parse(header) == nil)
        #expect(ContentDisposition.filename(header) == nil)
    }

    @Test(
        "syntax errors make the whole field invalid",
        arguments: [
            "",
            "   ",
            "\"inline\"",  // inlonlyquoted
            "\"attachment\"",  // attonlyquoted
            "filename=foo.html",  // attmissingdisposition
            "x=y; filename=foo.html",  // attmissingdisposition2
            "\"foo; filename=bar;baz\"; filename=qux",  // attmissingdisposition3
            "filename=foo.html, filename=bar.html",  // attmissingdisposition4
            "; filename=foo.html",  // emptydisposition
            ": inline; attachment; filename=foo.html",  // doublecolon
            "inline; attachment; filename=foo.html",  // attandinline
            "attachment; inline; filename=foo.html",  // attandinline2
            "attachment; filename=foo,bar.html",  // attwithtokfncommanq
            "attachment; ;filename=foo",  // attemptyparam
            "attachment; filename=foo bar.html",  // attwithasciifilenamenqws
            "attachment; filename=foo[1](2).html",  // attfnbrokentoken
            "attachment; filename=foo-\u{E4}.html",  // attfnbrokentokeniso
            "attachment; filename=foo-\u{C3}\u{A4}.html",  // attfnbrokentokenutf
            "attachment; filename=\"foo.html\".txt",  // attbrokenquotedfn
            "attachment; filename=\"bar",  // attbrokenquotedfn2
            "attachment; filename=foo\"bar;baz\"qux",  // attbrokenquotedfn3
            "attachment; filename=foo.html, attachment; filename=bar.html",  // attmultinstances
            "attachment; foo=foo filename=bar",  // attmissingdelim
            "attachment; filename=bar foo=foo",  // attmissingdelim2
            "attachment filename=bar",  // attmissingdelim3
            "filename=foo.html; attachment",  // attreversed
            "attachment; filename==?ISO-8859-1?Q?foo-=E4.html?=",  // attrfc2047token
            "attachment; filename *=UTF-8''foo-%c3%a4.html",  // attwithfn2231ws1: "filename" then "*"
            "attachment; filename=",
            "attachment; filename",
            "attachment; =foo.html",
            "attachment; filename=\"a\u{1}b\"",  // a control in a quoted-string
            "attachment; filename=\"a\u{7F}b\"",
            "attachment; filename=\"a\\",  // an escape at the end
            "attachment; filename=\"a\\\u{0}b\"",  // an escaped control
            "attachment;;",
            "attachment; filename=a;;",
            "attachment; filename=\"a\"\"b\"",
        ])
    func invalid(header: String) {
        #expect(ContentDisposition.parse(header) == nil, "\(header.debugDescription)")
        #expect(ContentDisposition.filename(header) == nil)
    }

    @Test(
        "fields that are valid but name no file",
        arguments: [
            "inline",  // inlonly
            "attachment",  // attonly
            "attachment;",
            "attachment; xfilename=foo.html",  // attconfusedparam
            "attachment; example=\"filename=example.txt\"",  // dispextbadfn
            "attachment; filename*0=\"foo.\"; filename*1=\"html\"",  // attfncont: RFC 2231 continuations are not used
            "attachment; filename*0*=UTF-8''foo-%c3%a4; filename*1=\".html\"",  // attfncontenc
            "attachment; filename=\"\"",
            "attachment; creation-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"",  // attcdate
        ])
    func noName(header: String) {
        #expect(ContentDisposition.parse(header) != nil, "\(header)")
        #expect(ContentDisposition.filename(header) == nil, "\(header)")
    }

    @Test("parse gives the type lower-cased and the parameters in order, unquoted")
    func parsed() throws {
        let field = try #require(ContentDisposition.parse("Attachment; Foo=\"a\\\"b\"; filename*=UTF-8''x; n=1"))
        #expect(field.type == "attachment")
        #expect(
            field.parameters == [
                ContentDisposition.Parameter(name: "foo", value: "a\"b", isQuoted: true),
                ContentDisposition.Parameter(name: "filename*", value: "UTF-8''x", isQuoted: false),
                ContentDisposition.Parameter(name: "n", value: "1", isQuoted: false),
            ])
        #expect(field.parameter("FOO")?.value == "a\"b")
        #expect(field.suggestedFilename == "x")
    }

    @Test(
        "hostile names come out of the parser as sent and out of the cleaner safe",
        arguments: [
            ("attachment; filename=\" .bashrc\"", "bashrc"),
            ("attachment; filename=\". .ssh\"", "ssh"),
            ("attachment; filename=\"../../etc/passwd\"", "passwd"),
            ("attachment; filename=\"/foo.html\"", "foo.html"),  // attabspath
            ("attachment; filename=\"\\\\foo.html\"", "foo.html"),  // attabspathwin
            ("attachment; filename*=UTF-8''%5cfoo.html", "foo.html"),  // attwithfn2231abspathdisguised
            ("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "passwd"),
            ("attachment; filename*=UTF-8''%2E%2E%2F.bashrc; filename=ok.txt", "bashrc"),
            ("attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe", "invoicefdp.exe"),  // U+202E RIGHT-TO-LEFT OVERRIDE
            ("attachment; filename*=UTF-8''a%C2%85b%C2%9Bc", "abc"),  // C1 controls
            ("attachment; filename*=UTF-8''a%00b%0D%0Ac", "abc"),  // C0 controls
            ("attachment; filename=\"\u{2067}x\u{2069}\u{FEFF}.txt\"", "x.txt"),
            ("attachment; filename*=UTF-8''%E3%80%80.profile", "profile"),  // U+3000 IDEOGRAPHIC SPACE
            ("attachment; filename=\"-rf\"", "rf"),
        ])
    func hostile(header: String, expected: String) {
        #expect(cleaned(header).map { Array($0.utf8) } == Array(expected.utf8), "\(header)")
    }

    @Test(
        "hostile names with nothing usable left give nil",
        arguments: [
            "attachment; filename=\"..\"",
            "attachment; filename=\".\"",
            "attachment; filename*=UTF-8''%2E%2E",
            "attachment; filename=\"../\"",
            "attachment; filename=\" . . \"",
            "attachment; filename*=UTF-8''%E2%80%AE",
        ])
    func hostileNothingLeft(header: String) {
        #expect(ContentDisposition.filename(header) != nil, "the parser gives the server's text")
        #expect(cleaned(header) == nil)
    }

    @Test("a 1000-byte UTF-8 filename* is cut to 255 bytes on a Character boundary, keeping .txt")
    func longExtendedName() throws {
        let encodedEuro = "%E2%82%AC"
        let header = "attachment; filename*=UTF-8''" + String(repeating: encodedEuro, count: 332) + ".txt"
        let raw = try #require(ContentDisposition.filename(header))
        #expect(raw.utf8.count == 1000)
        let name = try #require(DownloadFileName.safe(raw))
        #expect(name.utf8.count <= 255)
        #expect(name == String(repeating: "\u{20AC}", count: 83) + ".txt")
    }
}
