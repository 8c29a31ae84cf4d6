// swift-tools-version: 6.1
//
// The scheduler benchmarks (see docs/benchmarks.md). `make bench` generates the workload
// with bench/scheduler/workload.sh, builds this package in release mode and runs it.
import PackageDescription

let package = Package(
    name: "kubelab-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "kubelab", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "KubelabBench",
            dependencies: [.product(name: "KubelabCore", package: "kubelab")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
