// swift-tools-version:6.0
// libFuzzer targets for the plugin's parsers. Built by fuzz/run with
//   swift build -c release --sanitize=fuzzer --sanitize=address --scratch-path ../.build-fuzz
// Each target is an executable whose only source file defines LLVMFuzzerTestOneInput (libFuzzer supplies main).
import PackageDescription

// A path dependency's identity is its directory's name, which depends on where the repository was cloned.
let rootIdentity = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "main")
let kit = Target.Dependency.product(name: "MacvlanKit", package: rootIdentity)

let package = Package(
    name: "macvlan-fuzz",
    dependencies: [.package(path: "..")],
    targets: ["config", "cniargs", "result", "netlink", "dhcpv6"].map { name in
        .executableTarget(name: "fuzz-\(name)", dependencies: [kit], path: "Targets/\(name)")
    },
    swiftLanguageModes: [.v6]
)
