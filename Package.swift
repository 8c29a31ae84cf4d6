// swift-tools-version: 6.1
import PackageDescription

// Release builds skip the run-time exclusivity checks of the scheduler's hot paths (class
// properties read for every node of every cycle: about half of the scheduling time at 5,000
// nodes). Debug builds, which run the tests, keep them, so a violation still fails there.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "kubelab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kubelab", targets: ["KubeLabCLI"]),
        // The modules, for the fuzz targets (Fuzz/) and the benchmarks (Benchmarks/).
        .library(name: "KubelabCore", targets: ["SimCore", "KubeAPI", "KubeScheduler", "LuaHost", "LuaPlugins", "KubeLab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // Lua 5.4 from the system (Debian: liblua5.4-dev), found through pkg-config.
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        // C trampolines, traceback handler, count hook and capped allocator.
        .target(name: "CLuaShims", dependencies: ["CLua"]),
        // The only Swift module that touches the Lua C API.
        .target(name: "LuaHost", dependencies: ["CLua", "CLuaShims"], swiftSettings: hotPath),
        .target(
            name: "SimCore",
            dependencies: [
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "KubeAPI", dependencies: ["SimCore", "Yams"]),
        .target(name: "KubeStore", dependencies: ["SimCore", "KubeAPI"]),
        .target(name: "KubeAPIServer", dependencies: ["KubeStore"]),
        .target(
            name: "KubeScheduler",
            dependencies: ["KubeAPIServer", .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: hotPath
        ),
        .target(name: "KubeControllers", dependencies: ["KubeAPIServer"]),
        .target(name: "KubeNode", dependencies: ["KubeAPIServer"]),
        .target(name: "LuaPlugins", dependencies: ["LuaHost", "KubeScheduler", "KubeControllers"], swiftSettings: hotPath),
        .target(name: "KubeLab", dependencies: ["LuaPlugins", "KubeNode", "KubeScheduler", "KubeControllers"], swiftSettings: hotPath),
        .target(name: "Labs", dependencies: ["KubeLab", "Yams"]),
        .executableTarget(
            name: "KubeLabCLI",
            dependencies: [
                "KubeLab", "Labs", "LuaHost", "LuaPlugins",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "LuaHostTests", dependencies: ["LuaHost"], exclude: ["Fixtures"]),
        .testTarget(name: "SimCoreTests", dependencies: ["SimCore"]),
        .testTarget(name: "KubeAPITests", dependencies: ["KubeAPI"]),
        .testTarget(name: "ControlPlaneTests", dependencies: ["KubeStore", "KubeAPIServer", "KubeControllers"]),
        .testTarget(
            name: "KubeSchedulerTests", dependencies: ["KubeScheduler", "LuaHost", "LuaPlugins", "KubeLab"],
            exclude: ["Adversarial"]
        ),
        .testTarget(name: "KubeLabTests", dependencies: ["KubeLab", "Labs"], exclude: ["Solutions"]),
    ],
    swiftLanguageModes: [.v6]
)
