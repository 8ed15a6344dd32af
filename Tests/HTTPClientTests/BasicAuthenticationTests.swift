import HTTPTestServer
import NetCore
import TestSupport
import Testing

@testable import HTTPClient

/// Basic authentication (issue 14 point 3): from the URL's userinfo, from the caller, from
/// `.netrc`; sent only to the origin the user named, on both engines.
@Suite("Basic authentication")
struct BasicAuthenticationTests {
    /// "user:pass" of the test server's `auth=` check.
    static let pair = "alice:s3cr%t"
    static let expectedAuthorization = "Basic YWxpY2U6czNjciV0"  // base64("alice:s3cr%t")

    @Test("userinfo is percent-decoded into the credential, and never shown")
    func userinfoIsDecodedAndHidden() throws {
        let url = try HTTPURL("http://al%69ce:s3cr%25t@Example.org:8080/x?y=1")
        #expect(url.credential == (try HTTPCredential(user: "alice", password: "s3cr%t")))
        #expect(url.host == "example.org" && url.port == 8080 && url.target == "/x?y=1")
        #expect(url.description == "http://example.org:8080/x?y=1")
        #expect(!String(describing: url.credential!).contains("s3cr"))
        #expect(url.withoutCredential.credential == nil)
        #expect((try HTTPURL("http://@h/")).credential == nil)
        #expect((try HTTPURL("http://bob@h/")).credential == (try HTTPCredential(user: "bob", password: "")))
        // The last "@" ends the userinfo.
        #expect((try HTTPURL("http://a:b@c@h/")).credential == (try HTTPCredential(user: "a", password: "b@c")))
        #expect((try HTTPURL("http://a:b@c@h/")).host == "h")
    }

    @Test("the Authorization value is RFC 7617's, and control characters are refused")
    func basicValue() throws {
        #expect(try HTTPCredential(userColonPassword: Self.pair).basicAuthorization == Self.expectedAuthorization)
        // RFC 7617 §2 example.
        #expect(try HTTPCredential(user: "Aladdin", password: "open sesame").basicAuthorization == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        #expect(throws: HTTPClientError.self) { try HTTPCredential(user: "a", password: "b\r\nX-Injected: 1") }
        #expect(throws: HTTPClientError.self) { try HTTPCredential(userColonPassword: "no-colon") }
        let reason = "bad credentials in the URL: a credential cannot contain control characters"
        #expect(throws: HTTPClientError.invalidURL("http://u:%0D@h/", reason: reason)) { try HTTPURL("http://u:%0D@h/") }
    }

    @Test("URL credentials open a protected URL; without them it is a 401", arguments: HTTPEngine.allCases)
    func urlCredentials(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let path = "/gen/3000?seed=4&auth=alice:s3cr%25t"
        let (withStatus, count, withoutStatus) = try onLoop {
            let client = Client()
            let with = try await client.get("http://alice:s3cr%25t@127.0.0.1:\(server.port)\(path)", engine: engine)
            let count = try await with.body.collect().count
            let without = try await client.get("http://127.0.0.1:\(server.port)\(path)", engine: engine)
            _ = try await without.body.collect()
            return (with.status, count, without.status)
        }
        #expect(withStatus == 200 && count == 3000)
        #expect(withoutStatus == 401)
        #expect(server.receivedRequests.first?.values("Authorization") == [Self.expectedAuthorization])
    }

    @Test("a caller's Authorization header wins over the URL's userinfo")
    func headerWins() throws {
        let request = try HTTPRequest("http://alice:x@h/", headers: [("Authorization", "Bearer T")])
        let head = String(decoding: try RequestWriter.head(for: request, userAgent: "t"), as: UTF8.self)
        #expect(head.contains("Authorization: Bearer T\r\n"))
        #expect(!head.contains("Basic"))
    }

    @Test("a redirect to another origin carries no credential (userinfo or .netrc), on both engines", arguments: HTTPEngine.allCases)
    func redirectKeepsTheCredentialHome(engine: HTTPEngine) throws {
        let named = try TestHTTPServer.start()
        defer { named.stop() }
        let other = try TestHTTPServer.start()
        defer { other.stop() }
        // Another origin that also asks for alice's credential: it must not get it.
        let target = "http://127.0.0.1:\(other.port)/gen/100?auth=alice:s3cr%25t"
        let encoded = percentEncoded(target)
        let netrc = try Netrc(parsing: Array("default login alice password s3cr%t\n".utf8))
        let (userinfoStatus, netrcStatus) = try onLoop {
            let viaUserinfo = try await Client().get(
                "http://alice:s3cr%25t@127.0.0.1:\(named.port)/redirect/302?to=\(encoded)", engine: engine)
            _ = try await viaUserinfo.body.collect()
            let viaNetrc = try await Client(configuration: HTTPClientConfiguration(netrc: netrc)).get(
                "http://127.0.0.1:\(named.port)/redirect/302?to=\(encoded)", engine: engine)
            _ = try await viaNetrc.body.collect()
            return (viaUserinfo.status, viaNetrc.status)
        }
        #expect(userinfoStatus == 401 && netrcStatus == 401)
        #expect(other.receivedRequests.count == 2)
        #expect(other.receivedRequests.allSatisfy { $0.values("Authorization").isEmpty })
        // The named origin did get them, both times.
        #expect(named.receivedRequests.map { $0.values("Authorization") } == [[Self.expectedAuthorization], [Self.expectedAuthorization]])
    }

    @Test(".netrc gives the credential for the named host, on both engines", arguments: HTTPEngine.allCases)
    func netrcCredential(engine: HTTPEngine) throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let netrc = try Netrc(
            parsing: Array("machine other.example login x password y\nmachine 127.0.0.1 login alice password \"s3cr%t\"\n".utf8))
        let status = try onLoop {
            let response = try await Client(configuration: HTTPClientConfiguration(netrc: netrc)).get(
                "http://127.0.0.1:\(server.port)/gen/10?auth=alice:s3cr%25t", engine: engine)
            _ = try await response.body.collect()
            return response.status
        }
        #expect(status == 200)
    }

    @Test("Downloader sends its configured credential on every segment")
    func downloaderCredential() throws {
        let server = try TestHTTPServer.start()
        defer { server.stop() }
        let size = 3 << 20
        let (bytes, status) = try onLoop {
            let options = DownloadOptions(connections: 3, credential: try HTTPCredential(userColonPassword: Self.pair))
            let sink = MemorySink(size: size)
            let result = try await Downloader(client: Client(), options: options).run(
                url: try HTTPURL("http://127.0.0.1:\(server.port)/gen/\(size)?seed=9&auth=alice:s3cr%25t"), sink: sink)
            return (sink.bytes, result.totalBytes)
        }
        #expect(status == UInt64(size) && bytes.count == size)
        let requests = server.receivedRequests
        #expect(requests.count >= 3)
        #expect(requests.allSatisfy { $0.values("Authorization") == [Self.expectedAuthorization] })
    }
}
