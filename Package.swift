// swift-tools-version:6.0
// CNI link plugins (macvlan, macvtap). Layers, each target importing exactly what it declares (docs/ARCHITECTURE.md):
// CNI knows nothing of netlink, namespaces or any plugin; Netlink and Namespace know nothing of CNI; LinkPlugin
// joins them for every plugin that puts a link into a container; the concrete plugins sit on top.
import PackageDescription

let package = Package(
    name: "macvlan-cni",
    products: [
        .executable(name: "macvlan", targets: ["macvlan"]),
        .executable(name: "dhcp", targets: ["dhcp"]),
        .executable(name: "macvtap", targets: ["macvtap"]),
        // For fuzz/ (a separate package that depends on this one by path): the parsers' modules.
        .library(name: "MacvlanKit", targets: ["NetTypes", "JSON", "Netlink", "CNI", "LinkPlugin", "Macvlan", "DHCPv6"]),
    ],
    targets: [
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        .systemLibrary(name: "CJansson", providers: [.apt(["libjansson-dev"])]),  // links libjansson.a (module map)
        .target(name: "CNamespaces"),   // setns, namespace-file checks
        .target(name: "CProcess"),      // spawning, signal recording, environ
        .target(name: "SystemCall"),    // EINTR retry, errno text, directories and whole files
        .target(name: "NetTypes"),
        .target(name: "JSON", dependencies: ["CJansson"]),
        .target(name: "Netlink", dependencies: ["CMnl", "NetTypes", "SystemCall"]),
        .target(name: "Namespace", dependencies: ["CNamespaces", "NetTypes", "SystemCall"]),
        .target(name: "CNI", dependencies: ["JSON", "NetTypes", "CProcess", "SystemCall"]),
        .target(name: "LinkPlugin", dependencies: ["CNI", "Netlink", "Namespace", "NetTypes", "SystemCall"]),
        // The host-side shim, host routes and their state; knows no CNI.
        .target(name: "HostAccess", dependencies: ["Netlink", "Namespace", "NetTypes", "SystemCall"]),
        .target(name: "Macvlan", dependencies: ["LinkPlugin", "CNI", "Netlink", "NetTypes", "HostAccess"]),
        .executableTarget(name: "macvlan", dependencies: ["Macvlan", "LinkPlugin"]),
        .target(name: "Macvtap", dependencies: ["LinkPlugin", "CNI", "Netlink", "Namespace", "NetTypes", "SystemCall"]),
        .executableTarget(name: "macvtap", dependencies: ["Macvtap", "LinkPlugin"]),
        // DHCPv6 client (RFC 8415): codec and a socket-free transaction engine the dhcp daemon drives.
        .target(name: "DHCPv6", dependencies: ["NetTypes"]),
        // Test-only: lets test-harness/dhcp/dhcpv6-real drive the client against a real dnsmasq.
        .executableTarget(name: "dhcpv6-drive", dependencies: ["DHCPv6"], path: "test-harness/dhcp/dhcpv6-drive"),
        // The dhcp IPAM plugin and its lease-keeping daemon (docs/DHCP.md).
        .target(name: "DHCPv4", dependencies: ["NetTypes"]),
        .target(name: "DHCPService", dependencies: ["DHCPv4", "DHCPv6", "CNI", "JSON", "NetTypes", "Namespace", "Netlink", "SystemCall"]),
        .target(name: "DHCPDaemon", dependencies: ["DHCPService", "DHCPv4", "DHCPv6", "CNI", "JSON", "NetTypes", "Namespace", "CProcess", "SystemCall"]),
        .target(name: "DHCPPlugin", dependencies: ["DHCPService", "DHCPv4", "CNI", "JSON", "CProcess", "SystemCall"]),
        .executableTarget(name: "dhcp", dependencies: ["DHCPDaemon", "DHCPPlugin", "CNI"]),

        .testTarget(name: "NetTypesTests", dependencies: ["NetTypes"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "CNITests", dependencies: ["CNI", "JSON", "NetTypes", "TestSupport"], resources: [.copy("Golden")]),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "NetTypes", "CMnl"]),
        .testTarget(name: "NamespaceTests", dependencies: ["Namespace", "NetTypes"]),
        // Fakes behind the LinkSystem/RouteOperations/IPAM protocols, a config builder, expectCode: the verbs run
        // in-process without root. Under Tests/: it is never part of what ships.
        .target(name: "TestSupport", dependencies: ["LinkPlugin", "CNI", "Netlink", "NetTypes", "JSON", "Namespace"], path: "Tests/TestSupport"),
        .testTarget(name: "LinkPluginTests", dependencies: ["LinkPlugin", "TestSupport", "CNI", "Netlink", "NetTypes"]),
        .testTarget(name: "MacvtapTests", dependencies: ["Macvtap", "LinkPlugin", "TestSupport", "CNI", "Netlink", "NetTypes", "JSON"]),
        .testTarget(name: "MacvlanTests", dependencies: ["Macvlan", "LinkPlugin", "TestSupport", "CNI", "Netlink", "NetTypes", "JSON", "HostAccess"]),
        .testTarget(name: "DHCPv6Tests", dependencies: ["DHCPv6", "NetTypes"], exclude: ["Fixtures"]),
        .testTarget(name: "DHCPTests", dependencies: ["DHCPv4", "DHCPv6", "DHCPService", "DHCPDaemon", "CNI", "JSON", "NetTypes"]),
        .testTarget(name: "HostAccessTests", dependencies: ["HostAccess", "TestSupport", "Netlink", "Namespace", "NetTypes"]),
    ],
    swiftLanguageModes: [.v6]
)
