import NetCore
import Testing

/// A loop is freed (and its libev descriptors closed) once nothing holds it: the bookkeeping of
/// its last tasklets must not keep it. The test process made about a thousand loops that were
/// never freed (two descriptors each) before `run` and `pump` purged that bookkeeping on return.
@Suite struct LoopReleaseTests {
    @Test func aLoopWhoseTaskletsEndedIsFreedAfterRun() throws {
        weak var released: Loop?
        var value = 0
        do {
            let loop = try Loop(name: "release-run")
            released = loop
            let handle = loop.spawn(name: "last") { 42 }
            loop.run()
            value = try #require(handle.result).get()
        }
        #expect(value == 42)
        #expect(released == nil, "the loop outlived every reference to it")
    }

    @Test func aPumpedLoopIsFreedAfterItsLastFrame() throws {
        weak var released: Loop?
        do {
            let loop = try Loop(name: "release-pump")
            released = loop
            let handle = loop.spawn(name: "frame") { 7 }
            while handle.isAlive { _ = loop.pump(budget: .milliseconds(5)) }
        }
        #expect(released == nil, "the loop outlived every reference to it")
    }
}
