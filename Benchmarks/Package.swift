// swift-tools-version: 6.1
// NetCore's benchmarks (ordo-one/benchmark), kept in their own package so that building and
// testing the main package never pulls in the benchmark framework.
//   cd Benchmarks && swift package benchmark
import PackageDescription

let package = Package(
    name: "NetCoreBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "StacklessNet", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "CFDHolder", path: "Sources/CFDHolder"),
        .executableTarget(
            name: "NetCoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NetCore", package: "StacklessNet"),
                .product(name: "Workers", package: "StacklessNet"),
                .product(name: "HTTPClient", package: "StacklessNet"),
                "CFDHolder",
            ],
            path: "Benchmarks/NetCoreBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
