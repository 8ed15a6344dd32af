import HTTPClient

/// The faults a soak injects, mixed at random with a fixed seed.
enum FaultKind: String, CaseIterable, Sendable {
    /// The server resets the connection mid-body (RST).
    case reset
    /// The server closes early although it announced more.
    case earlyClose
    /// The server stops sending for longer than the idle timeout.
    case stall
    /// The server sends slowly (within the idle timeout): must succeed without a retry.
    case slowDrip
    /// A 503 now and then (retried after a back-off).
    case unavailable
    /// A worker job in the download's pipeline throws (the caller sees the error and retries).
    case workerThrows
    /// The downloading tasklet is cancelled mid-download and a new one resumes it.
    case cancelled
}

/// One download's plan: size, seed, engine, and its fault (if any) with the URL that causes it.
struct DownloadPlan: Sendable {
    let id: Int
    let size: UInt64
    let seed: UInt64
    let engine: HTTPEngine
    let fault: FaultKind?
    /// Where in the body the fault strikes.
    let faultOffset: UInt64

    /// The URL on the test server; server-side faults fire once (`once=`), so a retry gets a clean answer.
    func url(base: String) -> String {
        var url = "\(base)/gen/\(size)?seed=\(seed)"
        switch fault {
        case .reset?: url += "&fault=reset&at=\(faultOffset)&once=soak\(id)"
        case .earlyClose?: url += "&fault=close&at=\(faultOffset)&once=soak\(id)"
        case .stall?: url += "&fault=stall&at=\(faultOffset)&ms=2500&once=soak\(id)"
        case .slowDrip?: url += "&fault=drip&rate=8000000"
        case .unavailable?: url += "&fault=status&code=503&once=soak\(id)"
        case .workerThrows?, .cancelled?, nil: break
        }
        return url
    }

    static func make(id: Int, options: SoakOptions, random: inout SeededRandom) -> DownloadPlan {
        let engine: HTTPEngine = id % 2 == 0 ? .loop : .workers
        var fault: FaultKind?
        if Double(random.next() % 1_000_000) / 1_000_000 < options.faultRate {
            fault = FaultKind.allCases[Int(random.next() % UInt64(FaultKind.allCases.count))]
        }
        var mib = UInt64(options.minMiB) + random.next() % UInt64(options.maxMiB - options.minMiB + 1)
        if fault == .slowDrip { mib = min(mib, 8) }  // 8 MB/s: a drip of seconds, not minutes
        let size = mib << 20 + random.next() % 4096  // odd sizes: the last chunk is never aligned
        return DownloadPlan(
            id: id, size: size, seed: random.next() | 1, engine: engine, fault: fault,
            faultOffset: random.next() % max(1, size - 1))
    }
}

/// Thrown by the injected failing worker job.
struct InjectedWorkerFault: Error, CustomStringConvertible {
    var description: String { "injected fault: the worker job threw" }
}
