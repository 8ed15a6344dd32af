import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// How many values each sending thread sends: 250,000 by default; CI's ThreadSanitizer pass sets
/// NETCORE_STRESS_VALUES to a size that fits its time.
let stressValuesPerThread: Int = {
    guard let raw = getenv("NETCORE_STRESS_VALUES"), let value = Int(String(cString: raw)), value > 0 else {
        return 250_000
    }
    return value
}()

/// A sequence-numbered message whose checksum shows if it was replaced or corrupted in transit.
struct Message: Sendable, Equatable {
    let sender: Int
    let sequence: Int
    let checksum: UInt64

    init(sender: Int, sequence: Int) {
        self.sender = sender
        self.sequence = sequence
        checksum = Message.checksum(sender, sequence)
    }

    static func checksum(_ sender: Int, _ sequence: Int) -> UInt64 {
        (UInt64(sender) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(sequence) &* 0xBF58_476D_1CE4_E5B9)
    }

    var isIntact: Bool { checksum == Message.checksum(sender, sequence) }
}

/// Per-receiver, per-sender sequence logs, appended to on one loop's thread and read after run().
final class SequenceLog: @unchecked Sendable {  // written on the loop thread, read after run() returns
    private(set) var lists: [[[Int]]]
    private(set) var corrupted = 0

    init(receivers: Int, senders: Int) {
        lists = Array(repeating: Array(repeating: [], count: senders), count: receivers)
    }

    func record(_ message: Message, receiver: Int) {
        guard message.isIntact, lists[receiver].indices.contains(message.sender) else {
            corrupted += 1
            return
        }
        lists[receiver][message.sender].append(message.sequence)
    }

    /// Checks that every sender's values arrived exactly once overall and in increasing order at
    /// each receiver. Returns a readable problem, or nil. Never prints the lists themselves.
    func problem(valuesPerSender: Int) -> String? {
        if corrupted > 0 { return "\(corrupted) messages arrived corrupted" }
        for sender in lists[0].indices {
            var seen = [Bool](repeating: false, count: valuesPerSender)
            for (receiver, perSender) in lists.enumerated() {
                var previous = -1
                for sequence in perSender[sender] {
                    guard sequence > previous else {
                        return "receiver \(receiver) got sender \(sender)'s \(sequence) after \(previous)"
                    }
                    previous = sequence
                    guard sequence < valuesPerSender, !seen[sequence] else {
                        return "sender \(sender)'s value \(sequence) arrived twice (or is out of range)"
                    }
                    seen[sequence] = true
                }
            }
            if let missing = seen.firstIndex(of: false) {
                return "sender \(sender)'s value \(missing) never arrived (\(seen.filter { !$0 }.count) missing)"
            }
        }
        return nil
    }
}

@Suite struct StressTests {
    /// Four plain threads each send sequence-numbered values into one channel; two tasklets
    /// receive. Every value must arrive exactly once, intact, and in per-sender order at each
    /// receiver.
    @Test(arguments: [0, 64])
    func fourThreadsSendToTaskletsWithoutLossDuplicationOrReordering(capacity: Int) throws {
        let senders = 4
        let perSender = stressValuesPerThread
        let channel = Channel<Message>(capacity: capacity)
        let loop = try Loop()
        loop.disableWatchdog()
        let log = SequenceLog(receivers: 2, senders: senders)
        for receiver in 0..<2 {
            loop.spawn(name: "receiver-\(receiver)") {
                for try await message in channel { log.record(message, receiver: receiver) }
            }
        }
        let threads = (0..<senders).map { sender in
            TestThread.start {
                for sequence in 0..<perSender {
                    try? channel.sendBlocking(Message(sender: sender, sequence: sequence))
                }
            }
        }
        let closer = TestThread.start {
            threads.forEach { $0.join() }
            channel.close()
        }
        loop.run()
        closer.join()
        #expect(log.problem(valuesPerSender: perSender) == nil)
    }

    /// Tasklets on two loops and plain threads, all sending into and receiving from one channel.
    @Test func loopsAndThreadsExchangeEveryValueExactlyOnce() throws {
        let perProducer = max(1, stressValuesPerThread / 10)
        let channel = Channel<Message>(capacity: 8)
        let loops = try (0..<2).map { try Loop(name: "stress-\($0)") }
        let lock = PThreadMutex()
        let log = SequenceLog(receivers: 3, senders: 4)  // guarded by `lock`: three consumers share it
        let producersDone = Channel<Int>(capacity: 2)
        // Producers: one tasklet on each loop (senders 0, 1) and two threads (senders 2, 3).
        for (index, loop) in loops.enumerated() {
            loop.spawn {
                for sequence in 0..<perProducer { try await channel.send(Message(sender: index, sequence: sequence)) }
                try await producersDone.send(index)
            }
        }
        // Consumers: one tasklet on each loop and one thread.
        for (index, loop) in loops.enumerated() {
            loop.spawn { for try await message in channel { lock.withLock { log.record(message, receiver: index) } } }
        }
        let consumerThread = TestThread.start {
            while let message = try? channel.receiveBlocking() { lock.withLock { log.record(message, receiver: 2) } }
        }
        let producerThreads = (2..<4).map { sender in
            TestThread.start {
                for sequence in 0..<perProducer { try? channel.sendBlocking(Message(sender: sender, sequence: sequence)) }
            }
        }
        let loopThreads = loops.map { runOnThread($0) }
        producerThreads.forEach { $0.join() }
        _ = try producersDone.receiveBlocking()
        _ = try producersDone.receiveBlocking()
        channel.close()  // every value is sent; buffered ones are still drained by the consumers
        loopThreads.forEach { $0.join() }
        consumerThread.join()
        #expect(lock.withLock { log.problem(valuesPerSender: perProducer) } == nil)
    }
}
