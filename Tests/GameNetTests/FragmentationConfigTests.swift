import Testing

@testable import GameNet

/// Budgets that could not hold one largest message, and sizes the wire cannot number, are refused.
@Suite struct FragmentationConfigTests {
    @Test func budgetsBelowOneLargestMessageAreInvalid() {
        var config = GameNetConfig()
        #expect(config.problem == nil)
        config.maxReassemblyBytesPerPeer = config.maxMessageSize  // the bookkeeping does not fit
        #expect(throws: GameNetError.self) { try Host(config: config) }
        config = GameNetConfig()
        config.maxReassemblyBytesPerHost = config.maxReassemblyBytesPerPeer - 1
        #expect(config.problem != nil)
        config = GameNetConfig()
        config.maxMessageSize = 100 << 20  // 90,000 fragments: over the 16-bit count
        config.maxQueuedMessages = 100_000
        config.maxReassemblyBytesPerPeer = 200 << 20
        config.maxReassemblyBytesPerHost = 200 << 20
        #expect(config.problem?.contains("65535") == true)
    }
}
