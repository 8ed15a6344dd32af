import HTTPTestServer
import NetCore
import TestSupport
import Testing
import Workers

@testable import HTTPClient

/// Requests from a plain task and from an actor, on both engines; a tasklet still runs in place;
/// the home loop thread starts lazily and ends at shutdown; a given loop starts none.
extension AnyTaskCalls {
    @Suite struct AnyTaskClientTests {
        /// An actor that makes requests from its own isolation (not a tasklet).
        actor Fetcher {
            let client: Client
            var bytesFetched: UInt64 = 0
            init(client: Client) { self.client = client }

            func fetch(_ url: String, seed: UInt64, engine: HTTPEngine) async throws -> UInt64 {
                let response = try await client.get(url, engine: engine)
                guard response.status == 200 else { throw TestFailure("status \(response.status)") }
                let count = try await readGenerated(response.body, seed: seed)
                bytesFetched += count
                return count
            }
        }

        @Test(arguments: HTTPEngine.allCases) func fromAPlainTask(engine: HTTPEngine) async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let workers = try WorkerPool(threads: 2, name: "anytask-plain")
            defer { workers.shutdown() }
            let client = Client(workers: workers)
            defer { client.shutdown() }
            #expect(Loop.current == nil, "a test function is a plain task, not a tasklet")
            let url = "\(server.baseURL)/gen/300000?seed=7"
            let count = try await Task {
                let response = try await client.get(url, engine: engine)
                #expect(response.status == 200)
                #expect(response.engine == engine)
                return try await readGenerated(response.body, seed: 7)
            }.value
            #expect(count == 300_000)
            // A chunked body too: its end comes as a chunk, not from the length.
            let chunked = try await client.get("\(server.baseURL)/gen/100000?seed=8&chunked=1&chunk=4093", engine: engine)
            #expect(try await readGenerated(chunked.body, seed: 8) == 100_000)
            #expect(client.hopCounters.hops.load(ordering: .relaxed) == 2)
            #expect(client.homeLoop.hasStartedThread)
        }

        @Test(arguments: HTTPEngine.allCases) func fromAnActor(engine: HTTPEngine) async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let workers = try WorkerPool(threads: 2, name: "anytask-actor")
            defer { workers.shutdown() }
            let client = Client(workers: workers)
            defer { client.shutdown() }
            let fetcher = Fetcher(client: client)
            var total: UInt64 = 0
            for index in 0..<5 {
                let size = 50_000 + index * 10_007
                total += try await fetcher.fetch(
                    "\(server.baseURL)/gen/\(size)?seed=\(index + 1)", seed: UInt64(index + 1), engine: engine)
            }
            let expected: UInt64 = (0..<5).reduce(0) { $0 + UInt64(50_000 + $1 * 10_007) }
            #expect(total == expected)
            #expect(await fetcher.bytesFetched == total)
            #expect(server.stats.requestsServed == 5)
            if engine == .loop { #expect(server.stats.connectionsAccepted == 1, "the home loop pools its connection") }
        }

        @Test func errorsComeBackToTheCaller() async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let client = Client(configuration: HTTPClientConfiguration(maxRedirects: 1))
            defer { client.shutdown() }
            let error = await errorThrown { _ = try await client.get("\(server.baseURL)/redirect-chain/3") }
            guard case .tooManyRedirects? = error as? HTTPClientError else {
                Issue.record("expected tooManyRedirects, got \(String(describing: error))")
                return
            }
        }

        @Test func aTaskletStillRunsInPlace() throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let client = Client()
            let url = "\(server.baseURL)/gen/10000?seed=3"
            let count = try onLoop { try await readGenerated(client.get(url).body, seed: 3) }
            #expect(count == 10_000)
            #expect(client.hopCounters.hops.load(ordering: .relaxed) == 0)
            #expect(!client.homeLoop.hasStartedThread, "a tasklet-only client starts no thread")
        }

        @Test func theHomeLoopThreadStartsOnFirstUseAndEndsAtShutdown() async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            #expect(try await AnyTaskCalls.homeLoopThreads(awaiting: 0) == 0, "an earlier test's thread is still there")
            let client = Client()
            #expect(try AnyTaskCalls.homeLoopThreads() == 0, "init started a thread")
            for _ in 0..<3 {
                let response = try await client.get("\(server.baseURL)/gen/1000?seed=1")
                #expect(try await readGenerated(response.body, seed: 1) == 1000)
            }
            #expect(try await AnyTaskCalls.homeLoopThreads(awaiting: 1) == 1, "exactly one thread for every off-loop call")
            #expect(server.stats.openConnections == 1)
            client.shutdown()
            #expect(try await AnyTaskCalls.homeLoopThreads(awaiting: 0) == 0, "the thread outlived shutdown()")
            #expect(try await AnyTaskCalls.eventually { server.stats.openConnections == 0 }, "the idle connection stayed open")
            // A later call starts a new thread, which the client's deinit lets go.
            #expect(try await client.get("\(server.baseURL)/gen/10?seed=1").body.collect().count == 10)
            #expect(try await AnyTaskCalls.homeLoopThreads(awaiting: 1) == 1)
        }

        @Test func aGivenLoopCarriesTheRequestsAndNoThreadStarts() async throws {
            let server = try TestHTTPServer.start()
            defer { server.stop() }
            let given = try DrivenLoop(name: "given")
            defer { given.stop() }
            #expect(try await AnyTaskCalls.homeLoopThreads(awaiting: 0) == 0, "an earlier test's thread is still there")
            let before = try NoHiddenThreadTests.threadNames()
            let onGiven = Box(0)  // written on the given loop's thread only
            var configuration = HTTPClientConfiguration(loop: given.loop)
            configuration.headObserver = { [loop = given.loop] event in
                if case .request = event, loop.isCurrent { onGiven.value += 1 }
            }
            let client = Client(configuration: configuration)
            var total: UInt64 = 0
            for index in 0..<20 {
                total += try await readGenerated(client.get("\(server.baseURL)/gen/5000?seed=\(index)").body, seed: UInt64(index))
            }
            let after = try NoHiddenThreadTests.threadNames()
            print("threads: \(before.count) before, \(after.count) after (all suites)")
            #expect(total == 100_000)
            #expect(!client.homeLoop.hasStartedThread)
            #expect(try AnyTaskCalls.homeLoopThreads() == 0)
            #expect(client.hopCounters.hops.load(ordering: .relaxed) == 20)
            client.shutdown()  // nothing to stop: the loop is the caller's
            given.stop()  // joins the thread: its writes to onGiven are visible from here on
            #expect(onGiven.value == 20, "every request head was written on the given loop's thread")
        }
    }
}
