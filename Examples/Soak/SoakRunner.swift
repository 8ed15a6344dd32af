import HTTPClient
import HTTPTestServer
import NetCore
import Workers

#if canImport(Glibc)
    import Glibc
#endif

/// What the verifier concluded about one download.
enum Verdict: Sendable {
    case verified(chunks: UInt64)
    case failed(VerificationFailure)
    /// The sender closed the pipeline (its download failed).
    case abandoned
}

/// How one download ended.
struct DownloadOutcome: Sendable {
    var plan: DownloadPlan
    var bytes: UInt64 = 0
    var chunks: UInt64 = 0
    var retries = 0
    var failure: String?
}

/// The soak: downloads on the net loop (this thread) through both engines, every chunk handed
/// over a channel to a verifying tasklet on another loop (another thread), faults injected at
/// random with a fixed seed, one sample a second, and a report at the end.
final class SoakRunner: @unchecked Sendable {  // the net loop's thread, except where noted
    let options: SoakOptions
    private let netLoop: Loop
    private let verifyLoop: Loop
    private let workers: WorkerPool
    private let client: Client
    private let baseURL: String
    private let server: TestHTTPServer?
    private let counters = ThroughputCounters()
    private let verifyStats = RemoteLoopStats()
    private let stopVerifying = NetCore.Event()
    private var random: SeededRandom
    private(set) var report: SoakReport
    private var handles: [Int: TaskletHandle<Void>] = [:]
    private var failed = false

    init(options: SoakOptions) throws {
        self.options = options
        random = SeededRandom(seed: options.seed)
        report = SoakReport(options: options)
        if let url = options.baseURL {
            server = nil
            baseURL = url
        } else {
            let started = try TestHTTPServer.start()
            server = started
            baseURL = started.baseURL
        }
        netLoop = try Loop(name: "net")
        verifyLoop = try Loop(name: "verify")
        workers = try WorkerPool(threads: options.concurrent + 1, maxQueued: 256, name: "soak-http")
        client = Client(
            configuration: HTTPClientConfiguration(
                connectTimeout: .seconds(5), idleTimeout: .seconds(1),
                maxConnectionsPerHost: options.concurrent * 2),
            workers: workers)
    }

    /// Runs the soak on this thread. - Returns: the report (also written to the JSON and HTML files).
    func run() -> SoakReport {
        let verifier = startThread { [verifyLoop, stopVerifying, verifyStats] in
            verifyLoop.spawn(name: "verify-keeper") {
                // Keeps the verifying loop alive between downloads, and publishes its stats.
                while !stopVerifying.isSet {
                    verifyStats.publish(verifyLoop.stats)
                    _ = try? await stopVerifying.wait(timeout: .milliseconds(250))
                }
            }
            verifyLoop.run()
        }
        netLoop.spawn(name: "soak") { [self] in await soak() }
        netLoop.run()
        stopVerifying.set()
        pthread_join(verifier, nil)
        workers.shutdown(.cancelQueued)
        server?.stop()
        report.evaluate()
        return report
    }

    private func soak() async {
        report.descriptorsAtStart = openDescriptorCount()
        let start = ContinuousClock.now
        let sampling = netLoop.spawn(name: "sampler") { [self] in await sample(from: start) }
        report.cleanRate = await measureCleanRate()
        let soakStart = ContinuousClock.now
        let deadline = soakStart + .seconds(options.duration)
        let outcomes = Channel<DownloadOutcome>(capacity: options.concurrent * 2)
        var inFlight = 0
        var nextID = 0
        while !failed {
            while inFlight < options.concurrent && ContinuousClock.now < deadline && !failed {
                let plan = DownloadPlan.make(id: nextID, options: options, random: &random)
                nextID += 1
                inFlight += 1
                if let fault = plan.fault { report.faultsInjected[fault.rawValue, default: 0] += 1 }
                handles[plan.id] = netLoop.spawn(name: "download \(plan.id)") { [self] in
                    let outcome = await download(plan)
                    try? await outcomes.send(outcome)
                }
            }
            if inFlight == 0 { break }
            guard let outcome = try? await outcomes.receive() else { break }
            inFlight -= 1
            record(outcome)
        }
        report.seconds = seconds(ContinuousClock.now - start)
        report.soakSeconds = seconds(ContinuousClock.now - soakStart)
        sampling.cancel()
        client.closeIdleConnections()
        // The server side closes its ends when it sees ours close; a connection it is stalling
        // on purpose notices only when the stall ends (2.5 s). Wait for that, not longer.
        let settle = ContinuousClock.now + .seconds(5)
        repeat {
            try? await sleep(for: .milliseconds(100))
            client.closeIdleConnections()
        } while openDescriptorCount() > report.descriptorsAtStart && ContinuousClock.now < settle
        report.descriptorsAtEnd = openDescriptorCount()
        if report.descriptorsAtEnd > report.descriptorsAtStart {
            report.failures.append("descriptors still open at the end: \(openDescriptorNames().joined(separator: ", "))")
        }
    }

    private func record(_ outcome: DownloadOutcome) {
        handles[outcome.plan.id] = nil
        report.retries += outcome.retries
        if let failure = outcome.failure {
            report.failures.append(failure)
            failed = true
            for handle in handles.values { handle.cancel() }
            printError("soak: \(failure)")
            return
        }
        report.downloadsCompleted += 1
        report.downloadsByEngine[outcome.plan.engine.rawValue, default: 0] += 1
        report.bytesVerified += outcome.bytes
        report.bytesByEngine[outcome.plan.engine.rawValue, default: 0] += outcome.bytes
        report.chunksVerified += outcome.chunks
        if let fault = outcome.plan.fault { report.faultsRecovered[fault.rawValue, default: 0] += 1 }
    }

    /// The rate of one clean download through the same pipeline, before any fault.
    /// The clean single-download rate: the median of three fault-free downloads of 256 MiB
    /// (or the largest size) on the loop engine. One such download takes about half a second,
    /// and a single one read 387 to 587 MB/s on the same machine, while the faulty part's mean
    /// moved by a tenth: the median keeps one lucky half-second from setting the bar.
    private func measureCleanRate() async -> Double {
        var rates: [Double] = []
        for round in 0..<3 {
            let plan = DownloadPlan(
                id: -1 - round, size: UInt64(max(256, options.maxMiB)) << 20, seed: 7, engine: .loop, fault: nil, faultOffset: 0)
            let start = ContinuousClock.now
            let outcome = await download(plan)
            if let failure = outcome.failure {
                report.failures.append("clean baseline: \(failure)")
                failed = true
                return 0
            }
            rates.append(Double(outcome.bytes) / max(seconds(ContinuousClock.now - start), 1e-6))
        }
        report.cleanRates = rates
        return rates.sorted()[1]
    }

    // MARK: - One download

    /// Downloads `plan` through its engine into a channel that a verifying tasklet on the other
    /// loop reads, injecting its fault; resumes until the file is whole. Never throws: failures
    /// are in the outcome.
    private func download(_ plan: DownloadPlan) async -> DownloadOutcome {
        var outcome = DownloadOutcome(plan: plan)
        // Four chunks in flight per download: enough to keep both threads busy, little memory.
        let pipeline = Channel<PipelineMessage>(capacity: 4)
        let verdict = Channel<Verdict>(capacity: 1)
        verifyLoop.spawn(name: "verify \(plan.id)") {
            var verifier = ChunkVerifier(plan: plan)
            do {
                while true {
                    if try verifier.check(try await pipeline.receive()) { break }
                }
                try? await verdict.send(.verified(chunks: verifier.chunksReceived))
            } catch let failure as VerificationFailure {
                pipeline.close()  // the sender stops at its next send
                try? await verdict.send(.failed(failure))
            } catch {
                try? await verdict.send(.abandoned)  // the sender closed the pipeline: its error tells why
            }
        }
        let sink = ChannelSink(channel: pipeline)
        sink.onBytes = { [counters] count in
            if plan.engine == .loop { counters.loopBytes += UInt64(count) } else { counters.workersBytes += UInt64(count) }
        }
        let url: HTTPURL
        do {
            url = try HTTPURL(plan.url(base: baseURL))
        } catch {
            outcome.failure = "download \(plan.id): bad URL: \(error)"
            return outcome
        }
        var resume: ResumeState?
        var faultDone = false
        do {
            while true {
                let downloader = Downloader(
                    client: client,
                    options: DownloadOptions(
                        retries: 8, retryBaseDelay: .milliseconds(100), maxRetryDelay: .seconds(2), engine: plan.engine,
                        readSize: 64 << 10))
                if plan.fault == .workerThrows && !faultDone {
                    faultDone = true
                    do {
                        let _: Int = try await workers.callAsync("injected failing job") { _ in throw InjectedWorkerFault() }
                    } catch is InjectedWorkerFault {
                        outcome.retries += 1  // seen as the error it is; the download goes on
                    }
                }
                if plan.fault == .cancelled && !faultDone {
                    faultDone = true
                    if try await cancelMidway(downloader, url: url, sink: sink, at: plan.faultOffset) {
                        resume = downloader.resumeState
                        outcome.retries += 1
                        continue
                    }
                    break  // it finished before the cancel could land
                }
                let result = try await downloader.run(url: url, sink: sink, resume: resume)
                outcome.retries += result.retries
                try await sink.finish(totalBytes: result.totalBytes)
                break
            }
            switch try await verdict.receive() {
            case .verified(let chunks):
                outcome.chunks = chunks
                outcome.bytes = plan.size
            case .failed(let failure):
                outcome.failure = failure.description
            case .abandoned:
                outcome.failure = "download \(plan.id): the verifier lost its pipeline"
            }
        } catch {
            pipeline.close()
            if case .failed(let failure)? = try? await verdict.receive() {
                outcome.failure = failure.description  // the verifier found it first
            } else {
                outcome.failure =
                    "download \(plan.id) (\(plan.engine.rawValue) engine, fault \(plan.fault?.rawValue ?? "none"), \(plan.size) bytes) failed: \(error)"
            }
        }
        return outcome
    }

    /// Runs the download in a tasklet of its own and cancels it once `offset` bytes went
    /// through. - Returns: true if it was cancelled, false if it finished first.
    private func cancelMidway(_ downloader: Downloader, url: HTTPURL, sink: ChannelSink, at offset: UInt64) async throws -> Bool {
        let running = netLoop.spawn(name: "to be cancelled") {
            let result = try await downloader.run(url: url, sink: sink, resume: nil)
            try await sink.finish(totalBytes: result.totalBytes)
        }
        while running.isAlive && sink.bytesSent < offset {
            try await sleep(for: .milliseconds(2))
        }
        running.cancel()
        do {
            try await running.value
            return false
        } catch is CancellationError {
            return true
        }
    }

    // MARK: - Sampling

    private func sample(from start: ContinuousClock.Instant) async {
        var lastLoop: UInt64 = 0
        var lastWorkers: UInt64 = 0
        var last = ContinuousClock.now
        while true {
            do { try await sleep(for: .seconds(1)) } catch { return }
            let now = ContinuousClock.now
            let elapsed = seconds(now - last)
            let remote = verifyStats.current
            let stats = netLoop.stats
            report.samples.append(
                Sample(
                    second: seconds(now - start),
                    loopBytesPerSecond: Double(counters.loopBytes - lastLoop) / elapsed,
                    workersBytesPerSecond: Double(counters.workersBytes - lastWorkers) / elapsed,
                    rssBytes: residentBytes(), heapInUseBytes: Footprint.heapInUseBytes(), openDescriptors: openDescriptorCount(),
                    taskletsAlive: stats.taskletsAlive + remote.alive, taskletsParked: stats.taskletsParked + remote.parked,
                    workerQueueDepth: workers.stats.queueDepth))
            lastLoop = counters.loopBytes
            lastWorkers = counters.workersBytes
            last = now
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Starts `body` on a new OS thread. - Returns: the thread, to join.
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    do {
        return try OSThreads.start(body)
    } catch {
        preconditionFailure("the soak cannot run without its threads: \(error)")
    }
}
