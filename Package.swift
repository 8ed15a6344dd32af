// swift-tools-version: 6.2
import PackageDescription

/// NetCore's locks are pthread mutexes already (ThreadSanitizer understands them); nothing to switch.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "StacklessNet",
    products: [
        .library(name: "NetCore", targets: ["NetCore"]),
        .library(name: "Workers", targets: ["Workers"]),
        .library(name: "HTTPClient", targets: ["HTTPClient"]),
        .executable(name: "echo-server", targets: ["EchoServer"]),
        .executable(name: "loopback-download", targets: ["LoopbackDownload"]),
        .executable(name: "blocking-download", targets: ["BlockingDownload"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibev",
            path: "Sources/CLibev",
            providers: [.apt(["libev-dev"])]
        ),
        .target(name: "CLibevShim", dependencies: ["CLibev"], path: "Sources/CLibevShim"),
        .target(name: "NetCore", dependencies: ["CLibev", "CLibevShim"], swiftSettings: strict),
        .target(name: "Workers", dependencies: ["NetCore", "CLibevShim"], swiftSettings: strict),
        .target(name: "HTTPClient", dependencies: ["NetCore", "Workers"], swiftSettings: strict),
        .executableTarget(name: "EchoServer", dependencies: ["NetCore"], path: "Examples/EchoServer", swiftSettings: strict),
        .executableTarget(
            name: "LoopbackDownload", dependencies: ["NetCore"], path: "Examples/LoopbackDownload", swiftSettings: strict),
        .executableTarget(
            name: "BlockingDownload", dependencies: ["NetCore", "Workers"], path: "Examples/BlockingDownload",
            swiftSettings: strict),
        .testTarget(name: "NetCoreTests", dependencies: ["NetCore", "CLibevShim"], swiftSettings: strict),
        .testTarget(name: "WorkersTests", dependencies: ["Workers", "NetCore"], swiftSettings: strict),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient"], swiftSettings: strict),
    ]
)
