import HTTPTestServer
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Names a server chooses, end to end: what lands in the directory.
@Suite("netget file names")
struct NetgetFileNameTests {
    @Test(
        "a 300-byte Content-Disposition name is cut so that NAME.part and NAME.part.meta.tmp fit in NAME_MAX",
        arguments: Engine.allCases)
    func longSuggestedName(engine: Engine) async throws {
        try await withFixture { fixture in
            let long = String(repeating: "a", count: 300) + ".bin"
            let result = try await netget(
                engine.arguments + [fixture.url(TestServerURL().gen(1000).seed(81).name(long))], in: fixture.directory)
            #expect(result.exitCode == 0, "stderr: \(result.stderr)")
            let expected = String(repeating: "a", count: 255 - 24 - 4) + ".bin"
            #expect(directoryEntries(fixture.directory) == [expected])
            expectGenerated(fixture.file(expected), seed: 81, size: 1000)
        }
    }
}
