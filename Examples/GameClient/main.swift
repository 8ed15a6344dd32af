// GameClient: a 60 Hz game loop that ticks the net layer once per frame with a 2 ms budget
// (`loop.pump(budget:)`), while the net layer chats over TCP, syncs state over UDP at 20 Hz, and
// downloads two assets: one through `callAsync` and the blocking client on a worker thread, one
// through tasklets. Prints frame-time percentiles without and with the net layer, the net
// layer's time per frame, the download rates, and what the watchdog caught.
// When the process may run on two CPUs or more, the game (main) thread is pinned to the first
// and the worker pool, the stand-in HTTP server and the peers' thread to the others: a reserved
// core for the game thread, so that no thread it wakes is put on its core mid-frame.
// `--shared-cores` (anywhere on the line) leaves every thread where the system puts it, to
// show the difference. Exits 1 if a download or tasklet failed or the watchdog missed the slow
// tasklet.
// `--gamenet` plays a GameNet session instead (issue 17): against the stand-in game server
// (GameStandIn, on its own thread, behind a simulated link of 25 ms each way, 2 ms jitter and 5%
// loss), state at 20 Hz on an unreliable-sequenced channel, chat on a reliable-ordered one and a
// 200 KB level snapshot, all pumped inside the frame; it prints the net layer's time per frame
// and what arrived, and exits 1 if the level was not byte-exact, a chat echo came out of order
// or a state update went backwards.
//   swift run -c release game-client [ASSET_MB] [WORK_MS] [--shared-cores]     (defaults 500 and 6)
//   swift run -c release game-client --gamenet [SECONDS] [WORK_MS] [--shared-cores]   (10 and 6)
import GameNet
import GameStandIn
import HTTPTestServer
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

let sharedCores = CommandLine.arguments.dropFirst().contains("--shared-cores")
let gameNetMode = CommandLine.arguments.dropFirst().contains("--gamenet")
let arguments = CommandLine.arguments.dropFirst().filter { $0 != "--shared-cores" && $0 != "--gamenet" }
let assetMB = UInt64(arguments.first ?? "500") ?? 500
let workMilliseconds = Double(arguments.dropFirst().first ?? "6") ?? 6
let frame = Duration.nanoseconds(16_666_667)
let budget = Duration.milliseconds(2)
let assetSize = assetMB * 1_000_000
let seed: UInt64 = 60

let allowedCPUs = CPUPlacement.allowedCPUs()
let placement = sharedCores ? nil : ThreadPlacement(allowed: allowedCPUs)
if gameNetMode {
    let seconds = Int(arguments.first ?? "10") ?? 10
    let link = LinkConditions(loss: 0.05, latency: .milliseconds(25), jitter: .milliseconds(2))
    let standIn = try StandInGameServer(seed: seed, link: link, cpus: placement?.otherCPUs)
    if let placement { try CPUPlacement.pinCurrentThread(to: [placement.gameCPU]) }
    let loop = try Loop(name: "game", limits: LoopLimits(maxTasklets: 64, retainedRunQueueSlots: 64, retainedInboxSlots: 64))
    let session = GameNetSessionState()
    print("game-client --gamenet: 60 Hz frames, \(workMilliseconds) ms of game work each, net budget \(budget) per frame;")
    print("stand-in game server at \(standIn.address), 25 ms each way, 2 ms jitter, 5% loss")
    startGameNetLayer(on: loop, server: standIn.address, levelSeed: seed, seconds: seconds, state: session)
    var netPerFrame = TimeSeries()
    var intervals = TimeSeries()
    var next = ContinuousClock.now
    var lastStart = ContinuousClock.now
    while !session.finished {
        let start = ContinuousClock.now
        intervals.add(start - lastStart)
        lastStart = start
        if let net = runFrame(loop: loop, next: &next).net { netPerFrame.add(net) }
    }
    standIn.stop()
    print("frame time (start to start): \(intervals.summary)")
    print("net layer time per frame:    \(netPerFrame.summary) (budget \(budget))")
    if let after = session.levelArrivedAfterNs {
        print("level snapshot: \(GameProtocol.levelSize) bytes, byte-exact, \(format(Double(after) / 1e6)) ms after the connect")
    }
    print("chat: \(session.chatSent) lines sent, \(session.chatEchoes) echoes, in order")
    print(
        "state sync: \(session.statesSent) sent, \(session.statesReceived) received (newest tick \(session.newestTick)), never backwards"
    )
    if let stats = session.stats {
        let rtt = stats.smoothedRTTNs.map { format(Double($0) / 1e6) } ?? "-"
        print(
            "connection: RTT \(rtt) ms, \(stats.packetsSent) packets out, \(stats.packetsReceived) in, \(stats.packetsLost) judged lost, \(stats.messagesResent) resent"
        )
    }
    for error in session.errors { print("error: \(error)") }
    exit(session.errors.isEmpty ? 0 : 1)
}
let server = try TestHTTPServer.start(.init(cpus: placement?.otherCPUs))
let peers = try PeerServers(cpus: placement?.otherCPUs)
let pool = try WorkerPool(threads: 2, name: "game-workers", cpus: placement?.otherCPUs)
// Pinned after the other threads started, so none of them inherits the game thread's CPU.
if let placement { try CPUPlacement.pinCurrentThread(to: [placement.gameCPU]) }
let assetURL = "\(server.baseURL)/gen/\(assetSize)?seed=\(seed)"

/// One frame: the game's work, then (with a loop) one pump of the net layer; then sleep to the
/// next frame. - Returns: the frame's busy time (work + pump) and the pump's time.
func runFrame(loop: Loop?, next: inout ContinuousClock.Instant) -> (frame: Duration, net: Duration?) {
    let start = ContinuousClock.now
    simulateWork(milliseconds: workMilliseconds)
    var net: Duration?
    if let loop {
        let before = ContinuousClock.now
        _ = loop.pump(budget: budget)
        net = ContinuousClock.now - before
    }
    let spent = ContinuousClock.now - start
    next += frame
    let now = ContinuousClock.now
    if next > now {
        let wait = next - now
        var request = timespec(tv_sec: Int(wait.components.seconds), tv_nsec: Int(wait.components.attoseconds / 1_000_000_000))
        nanosleep(&request, nil)
    } else {
        next = now  // a late frame: do not try to catch up
    }
    return (spent, net)
}

print("game-client: 60 Hz frames, \(workMilliseconds) ms of game work each, net budget \(budget) per frame")
if let placement {
    print("placement: \(placement.description)")
} else if sharedCores {
    print("placement: none (shared cores)")
} else if allowedCPUs.isEmpty {
    print("placement: none (the kernel did not say which CPUs this thread may use)")
} else {
    print("placement: none (only CPU \(allowedCPUs.map(String.init).joined(separator: ", ")) allowed)")
}
var withoutNet = TimeSeries()
var intervalsWithoutNet = TimeSeries()
var next = ContinuousClock.now
var lastStart = ContinuousClock.now
for index in 0..<180 {
    let start = ContinuousClock.now
    if index > 0 { intervalsWithoutNet.add(start - lastStart) }
    lastStart = start
    withoutNet.add(runFrame(loop: nil, next: &next).frame)
}

// The game's ceiling on the loop's own memory: at most 64 tasklets, and queues that give back
// what a burst grew (see LoopLimits; the footprint printed at the end shows the high-water marks).
let loop = try Loop(name: "game", limits: LoopLimits(maxTasklets: 64, retainedRunQueueSlots: 64, retainedInboxSlots: 64))
let state = NetLayerState()
loop.setWatchdog(threshold: .milliseconds(20)) { report in state.watchdogReports.append(report) }  // runs on this thread
startNetLayer(on: loop, peers: peers, assetURL: assetURL, assetSize: assetSize, seed: seed, pool: pool, state: state)
var withNet = TimeSeries()
var intervalsWithNet = TimeSeries()
var netPerFrame = TimeSeries()
var frames = 0
let netStart = ContinuousClock.now
next = ContinuousClock.now
lastStart = ContinuousClock.now
while !state.downloadsDone && ContinuousClock.now - netStart < .seconds(120) {
    if frames == 90 { startSlowTasklet(on: loop) }
    let start = ContinuousClock.now
    let interval = start - lastStart
    lastStart = start
    let (spent, net) = runFrame(loop: loop, next: &next)
    // The frames around the deliberately slow tasklet are the watchdog's test, not the net layer's budget.
    if !(89...92).contains(frames) {
        withNet.add(spent)
        if frames > 0 { intervalsWithNet.add(interval) }
        if let net { netPerFrame.add(net) }
    }
    frames += 1
}
// Let the chat and sync tasklets see the end and finish.
for _ in 0..<30 { _ = runFrame(loop: loop, next: &next) }

print("frame time (start to start) without the net layer: \(intervalsWithoutNet.summary)")
print("frame time (start to start) with the net layer:    \(intervalsWithNet.summary)")
print("busy time per frame without the net layer: \(withoutNet.summary)")
print("busy time per frame with the net layer:    \(withNet.summary)")
print("net layer time per frame:         \(netPerFrame.summary) (budget \(budget))")
print("frame time p99 with - without: \(format(intervalsWithNet.percentile(0.99) - intervalsWithoutNet.percentile(0.99))) ms")
if let (bytes, time) = state.workerDownload {
    print(
        "asset via callAsync + blocking client: \(bytes) bytes in \(format(time)) s, \(Int(Double(bytes) / time / 1e6)) MB/s, every byte checked"
    )
}
if let (bytes, time) = state.taskletDownload {
    print(
        "asset via tasklets (pumped \(budget) per frame): \(bytes) bytes in \(format(time)) s, \(Int(Double(bytes) / time / 1e6)) MB/s, every byte checked"
    )
}
print("chat round trips: \(state.chatRoundTrips); UDP state syncs: \(state.syncRoundTrips)")
print("net layer footprint (NetCore's own bytes): \(loop.footprint)")
for report in state.watchdogReports { print("watchdog caught: \(report)") }
for error in state.errors { print("error: \(error)") }
peers.stop()
pool.shutdown()
server.stop()
let caught = state.watchdogReports.contains { $0.taskletName == "deliberately-slow-pathfinding" }
exit(state.errors.isEmpty && caught ? 0 : 1)
