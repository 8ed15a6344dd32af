import TestSupport
import Testing

@testable import NetCore

@Suite struct ChannelTests {
    @Test func rendezvousSendParksUntilAReceiverTakesTheValue() throws {
        let loop = try Loop()
        let channel = Channel<String>()
        let log = Box<[String]>([])
        loop.spawn {
            log.value.append("send start")
            try await channel.send("hi")
            log.value.append("send done")
        }
        loop.spawn {
            log.value.append("balance \(channel.balance)")
            let value = try await channel.receive()
            log.value.append("got \(value)")
        }
        loop.run()
        // The sender parked (balance 1) until the receiver came; with the default preference the
        // receiver went on first.
        #expect(log.value == ["send start", "balance 1", "got hi", "send done"])
    }

    @Test func balanceCountsWaitingReceiversAsNegative() throws {
        let loop = try Loop()
        let channel = Channel<Int>()
        let seen = Box<[Int]>([])
        for _ in 0..<3 { loop.spawn { _ = try await channel.receive() } }
        loop.spawn {
            seen.value.append(channel.balance)
            try await channel.send(1)
            seen.value.append(channel.balance)
            try await channel.send(2)
            try await channel.send(3)
            seen.value.append(channel.balance)
        }
        loop.run()
        #expect(seen.value == [-3, -2, 0])
    }

    @Test func capacityLetsSendersRunAheadThenParks() throws {
        let loop = try Loop()
        let channel = Channel<Int>(capacity: 2)
        let log = Box<[String]>([])
        loop.spawn {
            for value in 1...3 {
                try await channel.send(value)
                log.value.append("sent \(value)")
            }
        }
        loop.spawn {
            log.value.append("buffered \(channel.bufferedCount) balance \(channel.balance)")
            for _ in 1...3 { log.value.append("got \(try await channel.receive())") }
        }
        loop.run()
        #expect(log.value.prefix(3) == ["sent 1", "sent 2", "buffered 2 balance 1"])
        #expect(log.value.filter { $0.hasPrefix("got") } == ["got 1", "got 2", "got 3"])
        #expect(log.value.contains("sent 3"))
        #expect(channel.bufferedCount == 0 && channel.bufferedHighWater == 2, "the mark keeps the peak: capacity")
    }

    @Test func theHighWaterMarkRecordsThePeakNotTheCapacity() throws {
        let channel = Channel<Int>(capacity: 10)
        #expect(channel.bufferedHighWater == 0)
        for value in 0..<3 { try channel.sendBlocking(value) }
        _ = try channel.receiveBlocking()
        try channel.sendBlocking(3)
        #expect(channel.bufferedCount == 3 && channel.bufferedHighWater == 3)
        try channel.sendBlocking(4)
        #expect(channel.bufferedHighWater == 4)
    }

    @Test(arguments: [ChannelPreference.receiver, .neither, .sender])
    func preferenceDecidesWhoRunsFirst(preference: ChannelPreference) throws {
        let loop = try Loop()
        let channel = Channel<Int>()
        channel.preference = preference
        let log = Box<[String]>([])
        // The receiver parks first; then the sender's send wakes it.
        loop.spawn {
            _ = try await channel.receive()
            log.value.append("receiver")
        }
        loop.spawn {
            try await channel.send(1)
            log.value.append("sender")
        }
        // A bystander that is ready at the same time shows whether the sender yielded.
        loop.spawn {
            await Tasklet.yield()
            log.value.append("bystander")
        }
        loop.run()
        switch preference {
        case .receiver: #expect(log.value.firstIndex(of: "receiver")! < log.value.firstIndex(of: "sender")!)
        case .neither, .sender: #expect(log.value.first == "sender")
        }
    }

    @Test func preferenceSenderLetsAWokenSenderRunFirst() throws {
        let loop = try Loop()
        let channel = Channel<Int>()
        channel.preference = .sender
        let log = Box<[String]>([])
        loop.spawn {
            try await channel.send(1)  // parks: nobody receives yet
            log.value.append("sender")
        }
        loop.spawn {
            _ = try await channel.receive()  // takes from the parked sender, then yields to it
            log.value.append("receiver")
        }
        loop.run()
        #expect(log.value == ["sender", "receiver"])
    }

    @Test func closeWakesEveryWaiterWithAClearError() throws {
        let loop = try Loop()
        let channel = Channel<Int>()
        let errors = Box<[String]>([])
        for _ in 0..<2 {
            loop.spawn {
                do { _ = try await channel.receive() } catch { errors.value.append("receiver: \(error)") }
            }
        }
        let other = Channel<Int>()
        loop.spawn {
            do { try await other.send(5) } catch { errors.value.append("sender: \(error)") }
        }
        loop.spawn {
            await Tasklet.yield()
            #expect(channel.balance == -2)
            #expect(other.balance == 1)
            channel.close()
            other.close()
        }
        loop.run()
        #expect(errors.value.count == 3)
        #expect(errors.value.allSatisfy { $0.contains("channel is closed") })
        #expect(channel.balance == 0)
    }

    @Test func bufferedValuesSurviveCloseAndThenReceiveThrows() throws {
        let channel = Channel<Int>(capacity: 4)
        try channel.sendBlocking(1)
        try channel.sendBlocking(2)
        channel.close()
        #expect(throws: ChannelError.closed) { try channel.sendBlocking(3) }
        #expect(try channel.receiveBlocking() == 1)
        #expect(try channel.receiveBlocking() == 2)
        #expect(throws: ChannelError.closed) { try channel.receiveBlocking() }
    }

    @Test func iteratesAsAnAsyncSequenceUntilClosed() throws {
        let loop = try Loop()
        let channel = Channel<Int>()
        let sum = Box(0)
        loop.spawn {
            for try await value in channel { sum.value += value }
        }
        loop.spawn {
            for value in 1...100 { try await channel.send(value) }
            channel.close()
        }
        loop.run()
        #expect(sum.value == 5050)
    }

    @Test func cancellingAParkedReceiverResumesItAndLosesNoValue() async throws {
        let loop = try Loop()
        let channel = Channel<Int>()
        let receiver = loop.spawn { try await channel.receive() }
        let second = loop.spawn { try await channel.receive() }
        loop.spawn {
            await Tasklet.yield()
            receiver.cancel()
            try await channel.send(99)  // must reach the second receiver, not vanish
        }
        loop.run()
        await #expect(throws: CancellationError.self) { try await receiver.value }
        #expect(try await second.value == 99)
        #expect(channel.balance == 0)
    }

    @Test func cancellingAParkedSenderWithdrawsItsValue() async throws {
        let loop = try Loop()
        let channel = Channel<Int>()
        let sender = loop.spawn { try await channel.send(1) }
        loop.spawn {
            await Tasklet.yield()
            #expect(channel.balance == 1)
            sender.cancel()
        }
        loop.run()
        await #expect(throws: CancellationError.self) { try await sender.value }
        #expect(channel.balance == 0)
    }

    @Test func plainThreadsAndTaskletsMeetOnOneChannel() throws {
        let loop = try Loop()
        let toLoop = Channel<Int>()
        let toThread = Channel<Int>()
        loop.spawn {
            for _ in 0..<1_000 {
                let value = try await toLoop.receive()
                try await toThread.send(value * 2)
            }
        }
        let loopThread = runOnThread(loop)
        var total = 0
        for value in 0..<1_000 {
            try toLoop.sendBlocking(value)
            total += try toThread.receiveBlocking()
        }
        loopThread.join()
        #expect(total == 999_000)
    }

    @Test func taskletsOfTwoLoopsOnTwoThreadsPingPong() throws {
        let left = try Loop(name: "left")
        let right = try Loop(name: "right")
        let ping = Channel<Int>()
        let pong = Channel<Int>()
        let threads = Box<[String]>([])
        left.spawn {
            for value in 0..<5_000 {
                try await ping.send(value)
                let answer = try await pong.receive()
                if answer != value + 1 { throw TestFailure("pong \(answer) for ping \(value)") }
            }
            threads.value.append(Loop.current!.name)
        }
        let answered = right.spawn { () async throws -> Int in
            var count = 0
            for _ in 0..<5_000 {
                let value = try await ping.receive()
                try await pong.send(value + 1)
                count += 1
            }
            return count
        }
        let rightThread = runOnThread(right)
        left.run()
        rightThread.join()
        #expect(threads.value == ["left"])
        #expect(!answered.isAlive)
    }
}
