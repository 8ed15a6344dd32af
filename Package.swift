// swift-tools-version: 6.2
import PackageDescription

/// NetCore's locks are pthread mutexes already (ThreadSanitizer understands them); nothing to switch.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "StacklessNet",
    products: [
        .executable(name: "netget", targets: ["netget"]),
        .library(name: "NetCore", targets: ["NetCore"]),
        .library(name: "Workers", targets: ["Workers"]),
        .library(name: "NetTLS", targets: ["NetTLS"]),
        .library(name: "HTTPClient", targets: ["HTTPClient"]),
        .library(name: "ContentCoding", targets: ["ContentCoding"]),
        .library(name: "GameNet", targets: ["GameNet"]),
        .executable(name: "echo-server", targets: ["EchoServer"]),
        .executable(name: "loopback-download", targets: ["LoopbackDownload"]),
        .executable(name: "blocking-download", targets: ["BlockingDownload"]),
        .library(name: "HTTPTestServer", targets: ["HTTPTestServer"]),
        .executable(name: "test-server", targets: ["TestServerMain"]),
        .executable(name: "http-load", targets: ["HTTPLoad"]),
        .executable(name: "soak", targets: ["Soak"]),
        .executable(name: "game-client", targets: ["GameClient"]),
        .executable(name: "footprint", targets: ["Footprint"]),
        .executable(name: "gamenet-bench", targets: ["GameNetBench"]),
        .executable(name: "game-server", targets: ["GameServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // `swift package generate-documentation` (make docs): a plugin only, no target depends on it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibev",
            path: "Sources/CLibev",
            providers: [.apt(["libev-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            path: "Sources/COpenSSL",
            providers: [.apt(["libssl-dev"])]
        ),
        // Content codings from Debian: zlib (gzip, deflate), libbrotli (br), libzstd (zstd).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBrotli", path: "Sources/CBrotli", providers: [.apt(["libbrotli-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", providers: [.apt(["libzstd-dev"])]),
        // Response body decoders with no I/O (bytes in, bytes out) and bounded output.
        .target(name: "ContentCoding", dependencies: ["CZlib", "CBrotli", "CZstd"], swiftSettings: strict),
        // libev's macro API as C functions: libev wrappers only.
        .target(name: "CLibevShim", dependencies: ["CLibev"], path: "Sources/CLibevShim"),
        // Linux and libc calls Swift cannot make directly (accept4, fallocate, CPU sets, thread
        // names, ...). Only NetCore depends on it; every other module uses NetCore's wrappers.
        .target(name: "CLinuxShim", path: "Sources/CLinuxShim"),
        .target(
            name: "NetCore", dependencies: ["CLibev", "CLibevShim", "CLinuxShim", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .target(name: "Workers", dependencies: ["NetCore"], swiftSettings: strict),
        // Game sessions over UDP: a sans-I/O packet codec, connection and host machines fed
        // datagrams and time, a network simulator, and a thin driver over NetCore's UDPSocket.
        .target(name: "GameNet", dependencies: ["NetCore", "COpenSSL"], swiftSettings: strict),
        // TLS over memory BIOs: a handshake-and-record machine (bytes in, bytes out) and two thin
        // drivers over any byte stream; it owns no socket.
        .target(
            name: "NetTLS", dependencies: ["NetCore", "COpenSSL"],
            swiftSettings: strict + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .target(
            name: "HTTPClient",
            dependencies: [
                "NetCore", "NetTLS", "Workers", "COpenSSL", "ContentCoding", .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            // Async functions run where their caller runs (the tasklet's loop), never hop to the pool.
            swiftSettings: strict + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        // The project's own HTTP server for tests, the demo and the soak: generated content,
        // ranges, chunked, redirects and injectable faults, on NetCore (plain or TLS).
        .target(
            name: "HTTPTestServer", dependencies: ["NetCore", "NetTLS", "COpenSSL", "CZlib", "CBrotli", "CZstd"],
            swiftSettings: strict),
        .executableTarget(
            name: "TestServerMain", dependencies: ["HTTPTestServer", "NetCore", "NetTLS"], path: "Examples/TestServerMain",
            swiftSettings: strict),
        .executableTarget(
            name: "netget",
            dependencies: [
                "HTTPClient", "NetCore", "Workers", "COpenSSL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .executableTarget(name: "EchoServer", dependencies: ["NetCore"], path: "Examples/EchoServer", swiftSettings: strict),
        .executableTarget(
            name: "LoopbackDownload", dependencies: ["NetCore"], path: "Examples/LoopbackDownload", swiftSettings: strict),
        .executableTarget(
            name: "BlockingDownload", dependencies: ["NetCore", "Workers"], path: "Examples/BlockingDownload",
            swiftSettings: strict),
        .executableTarget(
            name: "Footprint", dependencies: ["HTTPClient", "HTTPTestServer", "NetCore", "Workers"],
            path: "Examples/Footprint", swiftSettings: strict),
        .executableTarget(
            name: "GameClient", dependencies: ["HTTPClient", "HTTPTestServer", "NetCore", "Workers", "GameNet", "GameStandIn"],
            path: "Examples/GameClient", swiftSettings: strict),
        // The example game's protocol over GameNet and its stand-in server (a plain target, not a
        // product: game-client, game-server and GameNetTests share it).
        .target(name: "GameStandIn", dependencies: ["GameNet", "NetCore"], path: "Examples/GameStandIn", swiftSettings: strict),
        .executableTarget(
            name: "GameServer", dependencies: ["GameStandIn", "NetCore"], path: "Examples/GameServer", swiftSettings: strict),
        // GameNet's side of scripts/bench-gamenet-vs-enet.sh, and the simulated-network UDP relay.
        .executableTarget(
            name: "GameNetBench", dependencies: ["GameNet", "NetCore"], path: "Examples/GameNetBench", swiftSettings: strict),
        .executableTarget(
            name: "Soak", dependencies: ["HTTPClient", "HTTPTestServer", "NetCore", "Workers"], path: "Examples/Soak",
            swiftSettings: strict + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .executableTarget(
            name: "HTTPLoad", dependencies: ["HTTPClient", "NetCore", "Workers"], path: "Examples/HTTPLoad",
            swiftSettings: strict),
        // Helpers every test target shares (loop runner, box, failure, threads, RSS, test-server
        // URLs): a plain target, not a product, so it ships to nobody.
        .target(
            name: "TestSupport", dependencies: ["NetCore", "NetTLS", "HTTPTestServer"], path: "Tests/TestSupport",
            exclude: ["proxies"],
            swiftSettings: strict + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .testTarget(name: "NetCoreTests", dependencies: ["NetCore", "CLibev", "TestSupport"], swiftSettings: strict),
        // The TLS machine with no socket (two machines back to back in memory), its drivers over
        // socket pairs, and TLS inside TLS.
        .testTarget(
            name: "NetTLSTests", dependencies: ["NetTLS", "NetCore", "HTTPTestServer", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "GameNetTests", dependencies: ["GameNet", "GameStandIn", "NetCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "WorkersTests", dependencies: ["Workers", "NetCore", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "HTTPClientTests",
            dependencies: [
                "HTTPClient", "HTTPTestServer", "NetCore", "NetTLS", "Workers", "TestSupport", "ContentCoding",
                .product(name: "Logging", package: "swift-log"), .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            exclude: ["nginx"],
            swiftSettings: strict),
        // End-to-end tests of the built netget binary (a subprocess) against the test server.
        // They need the executable: `swift build --build-tests` builds it next to the test bundle.
        .testTarget(
            name: "NetgetTests", dependencies: ["HTTPTestServer", "HTTPClient", "NetCore", "TestSupport"], swiftSettings: strict),
    ]
)
