import NetCore
import TestSupport
import Testing

@testable import HTTPClient

/// The exchange machine's side of a streamed body, with no socket: the exact bytes written,
/// `Expect: 100-continue`, and the retry rule (`ExchangeMachineTests.ScriptedConnection`).
@Suite struct StreamingBodyMachineTests {
    private struct NoChunks: AsyncSequence, Sendable {
        struct AsyncIterator: AsyncIteratorProtocol { mutating func next() async throws -> [UInt8]? { nil } }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
    }

    private func machine(length: Int?, expects: Bool = false, reused: Bool = false) throws -> (HTTPExchangeMachine, [UInt8]) {
        var request = try HTTPRequest("http://127.0.0.1:1/up", method: "PUT")
        request.streamingBody = .stream(NoChunks(), length: length)
        request.expectsContinue = expects
        let head = try RequestWriter.head(for: request, userAgent: "test")
        let machine = HTTPExchangeMachine(
            request: request, head: head, reused: reused, buffer: ReadBuffer(size: 16 << 10),
            clock: RequestClock(HTTPClientConfiguration()), limits: HTTPParserLimits(), continueTimeout: .seconds(5))
        return (machine, head)
    }

    private static let ok = ExchangeMachineTests.bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    @Test func chunkedFramingOnTheWire() throws {
        var (machine, head) = try machine(length: nil)
        let connection = ExchangeMachineTests.ScriptedConnection([Self.ok])
        connection.bodyChunks = [Array("hello".utf8), Array(repeating: 0x41, count: 300)]
        guard case .headReady(let reuse) = connection.run(&machine, into: .none) else { throw TestFailure("no head") }
        #expect(reuse == true)
        var expected: [UInt8] = head
        expected.append(contentsOf: "5\r\nhello\r\n12c\r\n".utf8)
        expected.append(contentsOf: [UInt8](repeating: 0x41, count: 300))
        expected.append(contentsOf: "\r\n0\r\n\r\n".utf8)
        #expect(connection.written == expected)
        #expect(String(decoding: head, as: UTF8.self).contains("Transfer-Encoding: chunked\r\n"))
    }

    @Test func aKnownLengthIsSentAsIsAndChecked() throws {
        var (machine, head) = try machine(length: 6)
        let connection = ExchangeMachineTests.ScriptedConnection([Self.ok])
        connection.bodyChunks = [[1, 2, 3], [4, 5, 6]]
        guard case .headReady = connection.run(&machine, into: .none) else { throw TestFailure("no head") }
        let sent: [UInt8] = [1, 2, 3, 4, 5, 6]
        #expect(connection.written == head + sent)
        var (short, _) = try self.machine(length: 10)
        let shortConnection = ExchangeMachineTests.ScriptedConnection([Self.ok])
        shortConnection.bodyChunks = [[1, 2, 3]]
        guard case .failed(HTTPClientError.invalidRequest, _) = shortConnection.run(&short, into: .none) else {
            throw TestFailure("a body shorter than its length was not refused")
        }
    }

    @Test func expectContinueHoldsTheBodyUntilThe100() throws {
        var (machine, head) = try machine(length: 3, expects: true)
        let connection = ExchangeMachineTests.ScriptedConnection([ExchangeMachineTests.bytes("HTTP/1.1 100 Continue\r\n\r\n"), Self.ok])
        connection.bodyChunks = [[7, 8, 9]]
        guard case .headReady(let reuse) = connection.run(&machine, into: .none) else { throw TestFailure("no head") }
        #expect(reuse == true)
        let sent: [UInt8] = [7, 8, 9]
        #expect(connection.written == head + sent)
        #expect(String(decoding: head, as: UTF8.self).contains("Expect: 100-continue\r\n"))
    }

    private static let brokenPipe = NetError(kind: .brokenPipe, errno: 32, operation: "write")

    @Test func aBodyWriteToAClosedServerReadsTheAnswerItSentFirst() throws {
        var (machine, head) = try machine(length: nil)
        let connection = ExchangeMachineTests.ScriptedConnection([
            ExchangeMachineTests.bytes("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        ])
        connection.bodyChunks = [[1, 2, 3], [4, 5, 6]]
        connection.writeFailure = Self.brokenPipe
        connection.writeFailureAfter = 1  // the head goes out; the first chunk finds the server gone
        guard case .headReady(let reuse) = connection.run(&machine, into: .none) else { throw TestFailure("no head") }
        #expect(machine.head?.status == 413)
        #expect(reuse == false)
        #expect(connection.written == head)
        #expect(connection.chunksAsked == 1, "the source was read on after the server had gone")
    }

    @Test func aBodyWriteToAClosedServerWithNoAnswerFailsWithTheWriteError() throws {
        for incoming: ExchangeMachineTests.Incoming in [.end, .fails(ExchangeMachineTests.reset)] {
            var (machine, _) = try machine(length: 6, reused: true)
            let connection = ExchangeMachineTests.ScriptedConnection([incoming])
            connection.bodyChunks = [[1, 2, 3], [4, 5, 6]]
            connection.writeFailure = Self.brokenPipe
            connection.writeFailureAfter = 1
            guard case .failed(HTTPClientError.network(let error), let retryable) = connection.run(&machine, into: .none) else {
                throw TestFailure("no failure after \(incoming)")
            }
            #expect(error.kind == .brokenPipe, "after \(incoming)")
            #expect(!retryable, "a streamed body is sent once")
        }
    }

    @Test func aFinalAnswerInsteadOfThe100EndsWithNoBodySentAndNoReuse() throws {
        var (machine, head) = try machine(length: 3, expects: true)
        let connection = ExchangeMachineTests.ScriptedConnection([
            ExchangeMachineTests.bytes("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
        ])
        connection.bodyChunks = [[7, 8, 9]]
        guard case .headReady(let reuse) = connection.run(&machine, into: .none) else { throw TestFailure("no head") }
        #expect(reuse == false, "the server may still wait for the body: the connection must go")
        #expect(machine.head?.status == 401)
        #expect(connection.written == head)
        #expect(connection.chunksAsked == 0)
    }

    @Test func aStreamedBodyOnAReusedConnectionIsNeverRetryable() throws {
        var (machine, _) = try machine(length: 3, reused: true)
        let connection = ExchangeMachineTests.ScriptedConnection([.end])
        connection.bodyChunks = [[1, 2, 3]]
        guard case .failed(_, let retryable) = connection.run(&machine, into: .none) else { throw TestFailure("did not fail") }
        #expect(retryable == false)
    }
}
