import TestSupport
import Testing

@testable import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// A tasklet whose socket is always ready never parks; NetCore's sockets make it yield now and
/// then (`YieldMeter`) so that it cannot hold the loop for a whole transfer.
@Suite struct FairnessTests {
    @Test func aReaderThatNeverParksStillLetsOthersRun() throws {
        let loop = try Loop()
        let (reader, writer) = try StreamSocket.makePair()
        reader.readMeter = YieldMeter(limit: 16 << 10)  // small, so a socket pair's buffer holds many limits
        // Fill the pair before the loop runs: every read below finds data at once.
        let payload = [UInt8](repeating: 7, count: 8 << 10)
        var queued = 0
        while payload.withUnsafeBytes({ send(writer.fileDescriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {
            queued += payload.count
        }
        #expect(queued >= 64 << 10, "the pair buffers enough for several limits (\(queued) bytes)")
        let ticks = Box(0)
        let ticksWhileReading = Box(-1)
        loop.spawn(name: "reader") {
            var buffer = [UInt8](repeating: 0, count: 8 << 10)
            var read = 0
            while read < queued {
                read += try await reader.read(into: &buffer)
            }
            ticksWhileReading.value = ticks.value
            reader.close()
            writer.close()
        }
        loop.spawn(name: "ticker") {
            while ticksWhileReading.value < 0 {
                ticks.value += 1
                await Tasklet.yield()
            }
        }
        loop.run()
        // Without the meter the reader runs to its end in one job and the ticker never runs first.
        #expect(
            ticksWhileReading.value >= queued / (16 << 10) - 1,
            "the ticker ran \(ticksWhileReading.value) times while \(queued) bytes were read")
    }

    @Test func theMeterYieldsEveryLimitAndAWaitResetsIt() {
        var meter = YieldMeter(limit: 100)
        var answers: [Bool] = []
        answers.append(meter.movedWithoutWaiting(60))
        answers.append(meter.movedWithoutWaiting(40))  // 100: yield
        answers.append(meter.movedWithoutWaiting(99))
        meter.didWait()  // a wait starts the count again
        answers.append(meter.movedWithoutWaiting(99))
        answers.append(meter.movedWithoutWaiting(1))  // 100 since the wait: yield
        #expect(answers == [false, true, false, false, true])
    }
}
