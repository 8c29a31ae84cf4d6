// swift-tools-version: 6.1
//
// libFuzzer targets for kubelab (see README.md). Build and run them with `make fuzz`
// (scripts/fuzz.sh): it also instruments the kubelab modules under test, not only these
// harnesses, for coverage and ASan, which the settings below cannot do for another package's
// targets. Linux only: libFuzzer ships with the open-source toolchain, not with Xcode's.
import PackageDescription

let fuzzSwift: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])]
let fuzzLink: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]

func fuzzTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [.product(name: "KubelabCore", package: "kubelab")],
        swiftSettings: fuzzSwift,
        linkerSettings: fuzzLink
    )
}

let package = Package(
    name: "kubelab-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "kubelab", path: ".."),
    ],
    targets: [
        fuzzTarget("FuzzManifest"),
        fuzzTarget("FuzzQuantity"),
        fuzzTarget("FuzzLuaCheck"),
    ],
    swiftLanguageModes: [.v6]
)
