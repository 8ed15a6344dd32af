import TestSupport
import Testing

@testable import NetCore

@Suite struct TaskletResultTests {
    @Test func resultIsNilWhileAliveAndTheOutcomeAfterwards() throws {
        let loop = try Loop()
        let ok = loop.spawn { 5 }
        let failing = loop.spawn { () async throws -> Int in throw TestFailure("no") }
        #expect(ok.result == nil)
        loop.run()
        #expect(try ok.result?.get() == 5)
        #expect(throws: TestFailure.self) { try failing.result?.get() }
    }
}
