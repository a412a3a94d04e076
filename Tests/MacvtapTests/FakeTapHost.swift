import CNI
import Glibc
import JSON
@testable import Macvtap
import Netlink
import TestSupport

/// sysfs, devtmpfs and the state directory in memory. /sys/dev/char is derived from the macvtaps of the
/// namespaces it watches, each link's number assigned once (minors as the kernel allocates them: lowest free).
final class FakeTapHost: TapHost {
    let namespaces: [FakeRoutes]
    var files: [String: [UInt8]] = [:]
    var nodes: [String: NodeStatus] = [:]
    /// Operation names ("characterDevices", "makeNode", "write", "remove") that fail.
    var failures: Set<String> = []
    /// Extra /sys/dev/char entries (e.g. another namespace's macvtap).
    var extraDevices: [(name: String, target: String)] = []
    private var numbers: [ObjectIdentifier: [Int32: UInt32]] = [:]
    private var nextMinor: UInt32 = 1
    /// CNI_NETNS paths whose namespace still exists, for GC.
    var liveNamespaces: [String: FakeRoutes] = [:]

    init(watching namespaces: [FakeRoutes]) { self.namespaces = namespaces }

    private func fail(_ operation: String) throws(CNIError) {
        if failures.contains(operation) { throw CNIError(.ioFailure, "fake \(operation) failure") }
    }

    func characterDevices() throws(CNIError) -> [(name: String, target: String)] {
        try fail("characterDevices")
        var entries = extraDevices
        for namespace in namespaces {
            for link in namespace.links where link.kind?.macvlanDevice == .macvtap {
                let key = ObjectIdentifier(namespace)
                let minor = numbers[key, default: [:]][link.index] ?? { () -> UInt32 in
                    defer { nextMinor += 1 }
                    numbers[key, default: [:]][link.index] = nextMinor
                    return nextMinor
                }()
                entries.append(("246:\(minor)", "../../devices/virtual/net/\(link.name)/macvtap/tap\(link.index)"))
            }
        }
        return entries
    }

    func node(at path: String) throws(CNIError) -> NodeStatus? { nodes[path] }

    func makeNode(at path: String, device: DeviceNumber, permissions: NodePermissions) throws(CNIError) {
        try fail("makeNode")
        nodes[path] = NodeStatus(isCharacterDevice: true, device: device, owner: permissions.owner, group: permissions.group, mode: permissions.mode)
    }

    func remove(_ path: String) throws(CNIError) {
        try fail("remove")
        nodes[path] = nil
        files[path] = nil
    }

    func read(_ path: String) throws(CNIError) -> [UInt8]? { files[path] }

    func write(_ path: String, _ bytes: [UInt8]) throws(CNIError) {
        try fail("write")
        files[path] = bytes
    }

    func list(_ directory: String) throws(CNIError) -> [String] {
        files.keys.filter { $0.hasPrefix(directory + "/") }.map { String($0.dropFirst(directory.count + 1)) }.filter { !$0.contains("/") }
    }

    func ownNamespaceFD() throws(CNIError) -> Int32 { 7 }

    func routes(inNamespace path: String) throws(CNIError) -> (any RouteOperations)? { liveNamespaces[path] }
}

/// A macvtap network on eth0 of the fake host, L2 only, cniVersion 1.1.0, records under /state.
func macvtapConfig(_ overrides: JSONObject = [:]) -> ConfigBuilder {
    ConfigBuilder().with(["type": "macvtap", "cniVersion": "1.1.0", "stateDir": "/state"]).removing("ipam").with(overrides)
}
