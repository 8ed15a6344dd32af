import Testing

@testable import NetCore

@Suite struct TaskletTableTests {
    /// Inserts and removes many keys in an order that makes long probe runs, and checks every
    /// lookup against a Dictionary after each step.
    @Test func agreesWithADictionaryThroughInsertsAndRemovals() throws {
        let loop = try Loop()
        var table = TaskletTable(capacity: 4)
        var reference: [UnsafeRawPointer: Tasklet] = [:]
        let tasklets = (0..<64).map { _ in Tasklet(name: nil, loop: loop) }
        let keys = (1...600).map { UnsafeRawPointer(bitPattern: $0 * 16)! }
        var generator = SystemRandomNumberGenerator()
        for step in 0..<3_000 {
            let key = keys[Int.random(in: 0..<keys.count, using: &generator)]
            if Bool.random(using: &generator) {
                let tasklet = tasklets[step % tasklets.count]
                table.insert(tasklet, for: key)
                reference[key] = tasklet
            } else {
                table.remove(key)
                reference[key] = nil
            }
            #expect(table.count == reference.count)
        }
        for key in keys {
            #expect(table[key] === reference[key])
        }
    }
}
