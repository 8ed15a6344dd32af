import HTTPTestServer
import NetCore
import TestSupport
import Testing

@testable import HTTPClient

/// Credentials go only to the origin they were given for: one rule (`CredentialScope`, applied
/// by `RequestWriter`), the same on both engines, on the redirect hop and on every request made
/// later for the final URL.
@Suite("credential scope")
struct CredentialScopeTests {
    static let secrets: [(String, String)] = [
        ("Authorization", "Bearer T0KEN"), ("Cookie", "s=T0KEN"), ("Proxy-Authorization", "Basic T0KEN"),
        ("X-Api-Key", "T0KEN"), ("X-Plain", "visible"),
    ]

    /// The header names in a written request head.
    func fieldNames(_ head: [UInt8]) -> [String] {
        String(decoding: head, as: UTF8.self).split(separator: "\r\n").dropFirst().compactMap { line in
            line.firstIndex(of: ":").map { String(line[..<$0]).lowercased() }
        }
    }

    @Test("the head for another origin leaves out Authorization, Cookie, Proxy-Authorization and marked names; the rest goes")
    func writerFiltersByOrigin() throws {
        let named = try HTTPURL("https://example.org/file")
        var request = HTTPRequest(url: try HTTPURL("https://cdn.example.net/file"), headers: Self.secrets)
        request.credentialScope = CredentialScope(for: named, extraNames: ["x-API-key"])
        let names = fieldNames(try RequestWriter.head(for: request, userAgent: "t"))
        #expect(!names.contains("authorization") && !names.contains("cookie") && !names.contains("proxy-authorization"))
        #expect(!names.contains("x-api-key"))
        #expect(names.contains("x-plain"))
    }

    @Test("the same origin, and an explicit trust of every origin, get every header")
    func writerKeepsForTheOrigin() throws {
        let named = try HTTPURL("https://example.org/file")
        var sameOrigin = HTTPRequest(url: try HTTPURL("https://example.org:443/other?q=1"), headers: Self.secrets)
        sameOrigin.credentialScope = CredentialScope(for: named, extraNames: ["x-api-key"])
        #expect(
            Set(fieldNames(try RequestWriter.head(for: sameOrigin, userAgent: "t"))).isSuperset(of: [
                "authorization", "cookie", "x-api-key",
            ]))

        var trusted = HTTPRequest(url: try HTTPURL("https://cdn.example.net/file"), headers: Self.secrets)
        trusted.credentialScope = CredentialScope(for: named, trustsEveryOrigin: true)
        #expect(Set(fieldNames(try RequestWriter.head(for: trusted, userAgent: "t"))).isSuperset(of: ["authorization", "cookie"]))
    }

    @Test("another scheme or port is another origin")
    func originIsSchemeHostPort() throws {
        let scope = CredentialScope(for: try HTTPURL("https://example.org/"))
        #expect(scope.allows("Authorization", to: try HTTPURL("https://EXAMPLE.org/x")))
        #expect(!scope.allows("Authorization", to: try HTTPURL("http://example.org/x")))
        #expect(!scope.allows("Authorization", to: try HTTPURL("https://example.org:8443/x")))
        #expect(!scope.allows("Cookie", to: try HTTPURL("https://www.example.org/x")))
        #expect(scope.allows("Accept", to: try HTTPURL("https://www.example.org/x")))
    }

    @Test("a redirect to another origin: the hop there carries no credentials, on both engines", arguments: HTTPEngine.allCases)
    func redirectHop(engine: HTTPEngine) throws {
        let named = try TestHTTPServer.start()
        defer { named.stop() }
        let other = try TestHTTPServer.start()
        defer { other.stop() }
        let target = "\(other.baseURL)/gen/2000?seed=3"
        let url = "\(named.baseURL)/redirect/302?to=\(percentEncoded(target))"
        let status = try onLoop {
            let response = try await Client().get(url, headers: Self.secrets, engine: engine)
            _ = try await response.body.collect()
            return response.status
        }
        #expect(status == 200)
        let atOther = other.receivedRequests
        #expect(atOther.count == 1)
        for name in ["Authorization", "Cookie", "Proxy-Authorization"] {
            #expect(atOther.first?.values(name) == [], "\(name) reached the other origin")
        }
        #expect(atOther.first?.values("X-Plain") == ["visible"])
        #expect(named.receivedRequests.first?.values("Authorization") == ["Bearer T0KEN"])
    }
}
