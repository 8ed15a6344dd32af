import TestSupport
import Testing

/// `TestServerURL` writes exactly the query strings the tests wrote by hand before it, in the
/// order the options are given (the test server reads them by name, but a changed string would
/// change what a test's request looks like on the wire).
@Suite struct TestServerURLTests {
    @Test func typedOptionsWriteTheHandWrittenStrings() {
        let base = "http://127.0.0.1:8080"
        let cases: [(TestServerURL, String)] = [
            (
                TestServerURL(base).gen(1000).seed(4).fault(.reset(at: 500)).once("r1"),
                "http://127.0.0.1:8080/gen/1000?seed=4&fault=reset&at=500&once=r1"
            ),
            (TestServerURL().gen(100000).seed(4).fault(.close(at: 5000)), "/gen/100000?seed=4&fault=close&at=5000"),
            (TestServerURL().gen(20000).seed(6).fault(.stall(at: 10000, ms: 300)), "/gen/20000?seed=6&fault=stall&at=10000&ms=300"),
            (
                TestServerURL().gen(3000).fault(.drip(rate: 10000)).chunked(chunk: 700),
                "/gen/3000?fault=drip&rate=10000&chunked=1&chunk=700"
            ),
            (TestServerURL().gen(100).fault(.malformed(kind: "badChunkSize")), "/gen/100?fault=malformed&kind=badChunkSize"),
            (TestServerURL().gen(1000).fault(.status(code: 503)).once("t1"), "/gen/1000?fault=status&code=503&once=t1"),
            (TestServerURL().gen(50001).seed(9).chunked(chunk: 1000, trailer: true), "/gen/50001?seed=9&chunked=1&chunk=1000&trailer=1"),
            (
                TestServerURL().gen("8m").seed(114).validators(false).fault(.reset(at: 5_767_168)).once("r2"),
                "/gen/8m?seed=114&validators=0&fault=reset&at=5767168&once=r2"
            ),
            (TestServerURL().gen("8m").seed(111).counter("c1", changeAfter: 4), "/gen/8m?seed=111&counter=c1&changeAfter=4"),
            (TestServerURL().gen(10).etag("v2").name("my%20file.bin").close(), "/gen/10?etag=v2&name=my%20file.bin&close=1"),
            (TestServerURL().gen(UInt64(5000)).seed(2).noRange(), "/gen/5000?seed=2&noRange=1"),
            (TestServerURL().gen(5000).seed(106).query("lie", "206"), "/gen/5000?seed=106&lie=206"),
            (TestServerURL(base).path("/status/204"), "http://127.0.0.1:8080/status/204"),
        ]
        for (url, expected) in cases {
            #expect(url.string == expected)
            #expect("\(url)" == expected)
        }
    }
}
