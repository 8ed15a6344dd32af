#if canImport(Glibc)
    import Glibc
#endif

/// The soak's settings, from the command line:
///   soak [--duration SECONDS] [--downloads N] [--fault-rate 0..1] [--seed N] [--min-mib N]
///        [--max-mib N] [--url BASE] [--json PATH] [--html PATH] [--heap-slack-mib N] [--rss-slack-mib N] [--warmup SECONDS]
struct SoakOptions {
    var duration: Double = 60
    /// Downloads in flight at once, split evenly between the two engines. Eight: with four, the
    /// lanes spent about half their time in the faults' designed waits (a 2.5 s stall noticed
    /// after the 1 s idle timeout, an 8 MB/s drip, retry delays) and the 60 s run's throughput
    /// read 0.48-0.53 of the clean rate against its bar of 0.5; with eight, 0.83, and twice the
    /// faults in the same time.
    var concurrent = 8
    /// The chance that a download gets a fault.
    var faultRate = 0.5
    var seed: UInt64 = 1
    var minMiB = 8
    var maxMiB = 64
    /// Target this server instead of starting the project's test server (it must speak the
    /// test server's /gen and fault parameters).
    var baseURL: String?
    var jsonPath = "soak-report.json"
    var htmlPath = "soak-report.html"
    /// The heap in use may grow this much after the warm-up (the least-squares trend over the
    /// run's rest, so the chunks in flight at any one second do not count): the leak check.
    var heapSlackMiB = 2.0
    /// RSS after the warm-up may peak this far above its level at the warm-up: the check that
    /// memory stays bounded. Looser than the heap's, because glibc's arenas keep freed pages
    /// (a 240 s run: heap in use flat at 4-5 MiB while RSS rose 2.5 MiB to a plateau).
    var rssSlackMiB = 8.0
    /// Seconds before RSS and descriptors are taken as the baseline; default: a tenth of the run, at least 10 s, at most 60 s.
    var warmup: Double?

    var effectiveWarmup: Double { warmup ?? min(60, max(10, duration / 10)) }

    static let usage =
        "usage: soak [--duration S] [--downloads N] [--fault-rate R] [--seed N] [--min-mib N] [--max-mib N] [--url BASE] [--json PATH] [--html PATH] [--heap-slack-mib N] [--rss-slack-mib N] [--warmup S]"

    /// - Returns: nil (after printing why) for bad arguments.
    static func parse(_ arguments: [String]) -> SoakOptions? {
        var options = SoakOptions()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument != "-h" && argument != "--help" else {
                print(usage)
                exit(0)
            }
            guard let value = rest.popFirst() else {
                printError("soak: \(argument) needs a value\n\(usage)")
                return nil
            }
            var ok = true
            switch argument {
            case "--duration":
                ok =
                    Double(value).map {
                        options.duration = $0
                        return $0 > 0
                    } ?? false
            case "--downloads":
                ok =
                    Int(value).map {
                        options.concurrent = $0
                        return $0 >= 2
                    } ?? false
            case "--fault-rate":
                ok =
                    Double(value).map {
                        options.faultRate = $0
                        return (0...1).contains($0)
                    } ?? false
            case "--seed":
                ok =
                    UInt64(value).map {
                        options.seed = $0
                        return true
                    } ?? false
            case "--min-mib":
                ok =
                    Int(value).map {
                        options.minMiB = $0
                        return $0 >= 1
                    } ?? false
            case "--max-mib":
                ok =
                    Int(value).map {
                        options.maxMiB = $0
                        return $0 >= 1
                    } ?? false
            case "--url": options.baseURL = value
            case "--json": options.jsonPath = value
            case "--html": options.htmlPath = value
            case "--heap-slack-mib":
                ok =
                    Double(value).map {
                        options.heapSlackMiB = $0
                        return $0 > 0
                    } ?? false
            case "--rss-slack-mib":
                ok =
                    Double(value).map {
                        options.rssSlackMiB = $0
                        return $0 > 0
                    } ?? false
            case "--warmup":
                ok =
                    Double(value).map {
                        options.warmup = $0
                        return $0 >= 0
                    } ?? false
            default:
                printError("soak: unknown option \(argument)\n\(usage)")
                return nil
            }
            if !ok {
                printError("soak: bad value \(value.debugDescription) for \(argument)\n\(usage)")
                return nil
            }
        }
        if options.maxMiB < options.minMiB {
            printError("soak: --max-mib must be at least --min-mib")
            return nil
        }
        return options
    }
}

/// A line on standard error (write(2): the C `stderr` global is not concurrency-safe in Swift 6).
func printError(_ text: String) {
    var bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// A small seeded generator (SplitMix64): the same seed gives the same faults, so a run repeats.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
