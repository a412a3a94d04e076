// swift-tools-version:6.0
// The macvlan CNI plugin. Layers (see README "Architecture"): CNI knows nothing of netlink or namespaces,
// Netlink and Namespace know nothing of CNI; only Macvlan joins them.
import PackageDescription

let package = Package(
    name: "macvlan-cni",
    products: [
        .executable(name: "macvlan", targets: ["macvlan"]),
        // For fuzz/ (a separate package that depends on this one by path): the parsers' modules.
        .library(name: "MacvlanKit", targets: ["NetTypes", "JSON", "Netlink", "CNI", "Macvlan", "DHCPv6"]),
    ],
    targets: [
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        .systemLibrary(name: "CJansson", providers: [.apt(["libjansson-dev"])]),  // links libjansson.a (module map)
        .target(name: "CSupport"),
        .target(name: "NetTypes"),
        .target(name: "JSON", dependencies: ["CJansson"]),
        .target(name: "Netlink", dependencies: ["CMnl", "CSupport", "NetTypes"]),
        .target(name: "Namespace", dependencies: ["CSupport"]),
        .target(name: "CNI", dependencies: ["JSON", "NetTypes", "CSupport"]),
        .target(name: "Macvlan", dependencies: ["CNI", "Netlink", "Namespace", "NetTypes", "JSON", "CSupport"]),
        .executableTarget(name: "macvlan", dependencies: ["Macvlan", "CNI"]),
        // DHCPv6 client (RFC 8415): codec and a socket-free transaction engine the dhcp daemon drives.
        .target(name: "DHCPv6", dependencies: ["NetTypes"]),
        // Test-only: lets test-harness/dhcp/dhcpv6-real drive the client against a real dnsmasq.
        .executableTarget(name: "dhcpv6-drive", dependencies: ["DHCPv6"], path: "test-harness/dhcp/dhcpv6-drive"),

        .testTarget(name: "NetTypesTests", dependencies: ["NetTypes"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "CNITests", dependencies: ["CNI", "JSON", "NetTypes"], resources: [.copy("Golden")]),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "NetTypes", "CMnl"]),
        .testTarget(name: "NamespaceTests", dependencies: ["Namespace"]),
        .testTarget(name: "MacvlanTests", dependencies: ["Macvlan", "CNI", "JSON"]),
        .testTarget(name: "DHCPv6Tests", dependencies: ["DHCPv6", "NetTypes"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
