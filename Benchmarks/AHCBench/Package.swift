// swift-tools-version: 6.1
// The anchor a Swift user would pick instead of the project's HTTP client: AsyncHTTPClient on
// SwiftNIO, driven through the same two workloads as Examples/HTTPLoad (http-load), so that
// scripts/bench-http.sh can alternate the two in one sitting. Its own package: neither the main
// package nor the benchmark suite pulls SwiftNIO in.
//   cd Benchmarks/AHCBench && swift build -c release
import PackageDescription

let package = Package(
    name: "AHCBench",
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0")
    ],
    targets: [
        .executableTarget(
            name: "ahc-bench",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Sources/AHCBench"
        )
    ]
)
