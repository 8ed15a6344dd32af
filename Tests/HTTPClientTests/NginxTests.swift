import HTTPClient
import HTTPTestServer
import NetCore
import Testing

/// The client against nginx, an HTTP implementation that is not ours. Skipped (with the reason
/// printed) when nginx is not installed; `make test` installs it.
@Suite(.enabled(if: NginxServer.isInstalled, "nginx is not installed (apt-get install -y nginx)"), .serialized)
struct NginxTests {
    @Test(arguments: HTTPEngine.allCases)
    func wholeFileRangesAndKeepAlive(engine: HTTPEngine) throws {
        let nginx = try NginxServer()
        defer { nginx.stop() }
        let base = nginx.baseURL
        let size = UInt64(NginxServer.size)
        let seed = NginxServer.seed
        try onLoop {
            let client = Client()
            let whole = try await client.get("\(base)/data.bin", engine: engine)
            #expect(whole.status == 200)
            #expect(try await readGenerated(whole.body, seed: seed) == size)

            var request = try HTTPRequest("\(base)/data.bin")
            request.range = .from(size - 1000)
            let tail = try await client.execute(request, engine: engine)
            #expect(tail.status == 206)
            #expect(tail.contentRange == (try ContentRange(parsing: "bytes \(size - 1000)-\(size - 1)/\(size)")))
            #expect(try await readGenerated(tail.body, seed: seed, from: size - 1000) == 1000)

            let head = try await client.head("\(base)/data.bin", engine: engine)
            let etag = try #require(head.headers.first("ETag"))
            request.range = .bounded(first: 5, last: 9)
            request.ifRange = .etag(etag)
            let conditional = try await client.execute(request, engine: engine)
            #expect(conditional.status == 206)
            #expect(try await readGenerated(conditional.body, seed: seed, from: 5) == 5)

            request.range = .from(size + 5)
            request.ifRange = nil
            let past = await errorThrown { _ = try await client.execute(request, engine: engine) }
            #expect(past as? HTTPClientError == .rangeNotSatisfiable(completeLength: size))

            let moved = try await client.get("\(base)/moved", engine: engine)
            #expect(moved.redirects.map(\.path) == ["/data.bin"])
            #expect(try await readGenerated(moved.body, seed: seed) == size)

            #expect(try await client.get("\(base)/missing", engine: engine).status == 404)

            let opened = engine == .loop ? client.stats.connectionsOpened : client.blockingClient.stats.connectionsOpened
            #expect(opened == 1, "every request above went over one keep-alive connection")
        }
    }

    @Test(arguments: HTTPEngine.allCases)
    func chunkedFromNginx(engine: HTTPEngine) throws {
        let nginx = try NginxServer()
        defer { nginx.stop() }
        let base = nginx.baseURL
        // nginx answers a gzip-accepting HTTP/1.1 request for /gz with a chunked body (its length
        // is not known ahead); the client passes the compressed bytes through untouched.
        let (encoding, transfer, count) = try onLoop {
            let response = try await Client().get("\(base)/gz", headers: [("Accept-Encoding", "gzip")], engine: engine)
            return (
                response.headers.first("Content-Encoding"), response.headers.first("Transfer-Encoding"),
                try await response.body.collect().count
            )
        }
        #expect(encoding == "gzip")
        #expect(transfer == "chunked")
        #expect(count > 0)
    }
}
