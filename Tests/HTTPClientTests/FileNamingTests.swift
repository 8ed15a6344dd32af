import HTTPClient
import Testing

/// Bytes, not `==`: String equality is canonical equivalence, and a file system compares bytes.
private func bytes(_ name: String?) -> [UInt8]? { name.map { Array($0.utf8) } }

@Suite struct FileNamingTests {
    @Test(
        "only the last path component, split on / and \\",
        arguments: [
            ("../../etc/passwd", "passwd"),
            ("/etc/passwd", "passwd"),
            ("..\\..\\boot.ini", "boot.ini"),
            ("C:\\Windows\\evil.dll", "evil.dll"),
            ("a/b\\c.txt", "c.txt"),
            ("/tmp/.hidden", "hidden"),
            ("dir/", "dir"),
            ("report.pdf", "report.pdf"),
            ("my file (1).bin", "my file (1).bin"),
        ])
    func lastComponent(proposed: String, expected: String) {
        #expect(bytes(DownloadFileName.safe(proposed)) == bytes(expected))
    }

    @Test(
        "a separator followed by a combining mark still separates (fuzz: one Character, but a '/' byte)",
        arguments: [
            ("a/\u{301}b", "\u{301}b"),
            ("..\\\u{300}x", "\u{300}x"),
            ("../\u{20DD}../\u{301}etc/passwd", "passwd"),
            ("x/\u{301}", "\u{301}"),
        ])
    func separatorWithCombiningMark(proposed: String, expected: String) throws {
        let name = try #require(DownloadFileName.safe(proposed))
        #expect(!name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(UInt8(ascii: "\\")))
        #expect(bytes(name) == bytes(expected))
        #expect(bytes(DownloadFileName.name(forURLPath: "/d/" + proposed)) == bytes(expected))
    }

    @Test(
        "nothing usable left: nil",
        arguments: [
            "", ".", "..", "...", "/", "\\", "../..", "a/..", ". .", " . . ", "-", "--", " -. ", "\u{0}\u{1}", "\u{202E}",
            "\u{3000}\u{A0}", ".\u{FEFF}.", "\t\n",
        ])
    func nothingLeft(proposed: String) {
        #expect(DownloadFileName.safe(proposed) == nil)
    }

    @Test(
        "leading whitespace, dots and hyphens go together until none is left; trailing whitespace goes",
        arguments: [
            (" .bashrc", "bashrc"),
            (". .ssh", "ssh"),
            (".bashrc", "bashrc"),
            ("...x", "x"),
            (" . . .profile ", "profile"),
            ("\u{3000}.profile\u{A0}", "profile"),  // Unicode whitespace, not only ASCII
            ("\u{2003}\u{205F}name.txt\u{2009}\u{202F}", "name.txt"),
            ("\t.x", "x"),  // the tab is a control, removed first
            ("-rf", "rf"),
            ("--help", "help"),
            ("- .-x", "x"),
            ("name.txt  ", "name.txt"),
            ("name. txt", "name. txt"),
            ("trailing.", "trailing."),
            ("a-b", "a-b"),
        ])
    func edges(proposed: String, expected: String) {
        #expect(bytes(DownloadFileName.safe(proposed)) == bytes(expected))
    }

    @Test("C0, DEL and C1 controls are removed")
    func controls() {
        #expect(bytes(DownloadFileName.safe("a\u{0}b\u{1F}c\u{7F}d\r\ne")) == bytes("abcde"))
        #expect(bytes(DownloadFileName.safe("\u{80}x\u{85}y\u{9F}z")) == bytes("xyz"))
        for value in Array(0x00...0x1F) + Array(0x7F...0x9F) {
            let scalar = Unicode.Scalar(UInt32(value))!
            #expect(DownloadFileName.isRemoved(scalar), "U+\(String(value, radix: 16))")
            #expect(bytes(DownloadFileName.safe("a" + String(scalar) + "b")) == bytes("ab"))
        }
    }

    @Test("bidi controls are removed: RIGHT-TO-LEFT OVERRIDE cannot show invoice.exe as invoice.pdf")
    func bidiControls() {
        let bidi: [UInt32] = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
        for value in bidi {
            let scalar = Unicode.Scalar(value)!
            #expect(DownloadFileName.isRemoved(scalar), "U+\(String(value, radix: 16))")
            #expect(bytes(DownloadFileName.safe("x" + String(scalar) + "y")) == bytes("xy"))
        }
        #expect(bytes(DownloadFileName.safe("invoice\u{202E}fdp.exe")) == bytes("invoicefdp.exe"))
        #expect(bytes(DownloadFileName.safe("\u{202E}\u{2066}.bashrc")) == bytes("bashrc"), "removed before the leading dot is looked at")
    }

    @Test("other invisible format characters are removed; those real text needs stay")
    func invisibleFormatCharacters() {
        let removed: [UInt32] = [
            0xFEFF, 0x200B, 0x00AD, 0x034F, 0x180E, 0x2060, 0x2061, 0x2064, 0x206A, 0x206F,
            0x3164, 0xFFA0, 0x115F, 0x2028, 0x2029, 0xE0001, 0xE0041, 0xE007F,
        ]
        for value in removed {
            #expect(DownloadFileName.isRemoved(Unicode.Scalar(value)!), "U+\(String(value, radix: 16))")
        }
        #expect(bytes(DownloadFileName.safe("\u{FEFF}a\u{200B}b\u{2060}c\u{E0041}d")) == bytes("abcd"))
        #expect(DownloadFileName.safe("\u{3164}") == nil, "a name of one invisible Hangul filler is no name")
        let kept: [UInt32] = [0x200C, 0x200D, 0xFE0F, 0xE0100, 0x180B, 0x0020, 0x00A0, 0x00E9, 0x20AC, 0x1F600]
        for value in kept {
            #expect(!DownloadFileName.isRemoved(Unicode.Scalar(value)!), "U+\(String(value, radix: 16))")
        }
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}.png"  // ZWJ sequence
        #expect(bytes(DownloadFileName.safe(family)) == bytes(family))
        let persian = "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}.txt"  // ZWNJ
        #expect(bytes(DownloadFileName.safe(persian)) == bytes(persian))
    }

    @Test("a 300-byte aaa...a.tar.gz keeps .gz and fits in 255 bytes")
    func longNameKeepsExtension() throws {
        let proposed = String(repeating: "a", count: 300 - 7) + ".tar.gz"
        #expect(proposed.utf8.count == 300)
        let name = try #require(DownloadFileName.safe(proposed))
        #expect(name.utf8.count == 255)
        #expect(name.hasSuffix(".gz"))
        #expect(name == String(repeating: "a", count: 252) + ".gz")
    }

    @Test("a 1000-byte name of multi-byte characters is cut on a Character boundary, its extension kept")
    func longMultiByteName() throws {
        let euros = String(repeating: "\u{20AC}", count: 332) + ".txt"  // 3 bytes each: 996 + 4
        #expect(euros.utf8.count == 1000)
        let name = try #require(DownloadFileName.safe(euros))
        #expect(name.utf8.count <= 255)
        #expect(name.utf8.count > 255 - 3, "as long as whole characters allow")
        #expect(bytes(name) == bytes(String(repeating: "\u{20AC}", count: 83) + ".txt"))

        // e + COMBINING ACUTE ACCENT: one Character of 3 bytes, never split between its scalars.
        let accents = String(repeating: "e\u{301}", count: 334)  // 1002 bytes, no extension
        let cut = try #require(DownloadFileName.safe(accents))
        #expect(bytes(cut) == bytes(String(repeating: "e\u{301}", count: 85)))

        let fourByte = String(repeating: "\u{1F600}", count: 250)  // 1000 bytes
        #expect(bytes(DownloadFileName.safe(fourByte)) == bytes(String(repeating: "\u{1F600}", count: 63)))
    }

    @Test("an extension longer than 16 bytes, or with an empty base, is not kept")
    func extensionRules() throws {
        let longExtension = String(repeating: "a", count: 280) + "." + String(repeating: "b", count: 17)
        #expect(DownloadFileName.safe(longExtension) == String(repeating: "a", count: 255))
        let sixteen = String(repeating: "a", count: 280) + "." + String(repeating: "b", count: 16)
        #expect(DownloadFileName.safe(sixteen) == String(repeating: "a", count: 255 - 17) + "." + String(repeating: "b", count: 16))
        let dotAtEnd = String(repeating: "a", count: 300) + "."
        #expect(DownloadFileName.safe(dotAtEnd) == String(repeating: "a", count: 255))
    }

    @Test("a cut that ends in whitespace loses the whitespace")
    func cutEndingInWhitespace() {
        let proposed = String(repeating: "a", count: 254) + "  bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
        #expect(DownloadFileName.safe(proposed) == String(repeating: "a", count: 254))
    }

    @Test("a first Character longer than the limit leaves nothing")
    func giantGrapheme() {
        let zalgo = "a" + String(repeating: "\u{301}", count: 200) + ".txt"
        #expect(DownloadFileName.safe(zalgo) == nil)
    }

    @Test("maxBytes leaves room for a caller's suffix")
    func smallerLimit() {
        #expect(DownloadFileName.safe("abcdef.txt", maxBytes: 8) == "abcd.txt")
        #expect(DownloadFileName.safe("abcdefgh", maxBytes: 5) == "abcde")
        #expect(DownloadFileName.safe("abc", maxBytes: 5) == "abc")
    }

    @Test("cleaning a clean name changes nothing (byte for byte)")
    func idempotent() {
        let hostile = [
            " .bashrc", ". .ssh", "../../etc/passwd", "a\u{202E}b", String(repeating: "\u{20AC}", count: 400) + ".tar.gz",
            String(repeating: "a", count: 254) + " \u{3000}b", "\u{600} x", "x\u{600} .gz" + String(repeating: "y", count: 300),
            ". - \u{A0}.x", String(repeating: "e\u{301}", count: 200) + ".e\u{301}",
        ]
        for proposed in hostile {
            let once = DownloadFileName.safe(proposed)
            #expect(once != nil)
            #expect(bytes(once.flatMap { DownloadFileName.safe($0) }) == bytes(once), "\(proposed.debugDescription)")
        }
    }

    @Test(
        "a URL's last segment: percent-decoded when that is valid UTF-8, then cleaned",
        arguments: [
            ("/files/report%202024.pdf", "report 2024.pdf"),
            ("/a/%E2%82%AC.txt", "\u{20AC}.txt"),
            ("/a/50%.html", "50%.html"),  // a lone % stays, and the byte after it too
            ("/a/100%%41.txt", "100%A.txt"),
            ("/a/%zz%4", "%zz%4"),
            ("/a/%FF.bin", "%FF.bin"),  // not UTF-8 once decoded: the encoded text is kept
            ("/x/a%2F..%2Fpasswd", "passwd"),
            ("/x/%5C..%5Cboot.ini", "boot.ini"),
            ("/x/%2Ebashrc", "bashrc"),
            ("/x/%E2%80%AEexe.txt", "exe.txt"),
            ("/x/%00name", "name"),
            ("/plain", "plain"),
        ])
    func urlPath(path: String, expected: String) {
        #expect(bytes(DownloadFileName.name(forURLPath: path)) == bytes(expected))
    }

    @Test("a URL path that names no file gives nil", arguments: ["/", "/dir/", "", "/x/%2e%2e", "/x/..", "/x/%20"])
    func urlPathWithoutName(path: String) {
        #expect(DownloadFileName.name(forURLPath: path) == nil)
    }

    @Test func percentDecoding() {
        #expect(DownloadFileName.percentDecoded("%41%") == "A%")
        #expect(DownloadFileName.percentDecoded("%4") == "%4")
        #expect(DownloadFileName.percentDecoded("%c3%a4") == "\u{E4}")
        #expect(DownloadFileName.percentDecoded("%C3") == nil)
        #expect(DownloadFileName.percentDecoded("no-percent") == "no-percent")
    }
}
