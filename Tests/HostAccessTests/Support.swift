import Foundation
import Namespace
import NetTypes
import Netlink
import TestSupport
@testable import HostAccess

/// A fresh state directory per test, removed at the end of the test.
final class TempDir {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hostaccess-tests-\(UUID().uuidString)").path
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func files() -> [String] {
        guard let e = FileManager.default.enumerator(atPath: path) else { return [] }
        return e.compactMap { $0 as? String }.filter { !$0.hasPrefix(".") && !$0.contains("/.") }
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: path + "/" + $0, isDirectory: &d) && !d.boolValue }
    }
}

extension FakeRoutes {
    @discardableResult
    func addLink(_ name: String, kind: LinkKind? = .other("veth"), parent: Int32? = nil, alias: String? = nil, up: Bool = true) -> LinkInfo {
        var link = LinkInfo(index: (links.map(\.index).max() ?? 0) + 1, name: name, kind: kind,
                            flags: up ? .up : [], hardwareType: HardwareType.ether, parentIndex: parent)
        link.alias = alias
        links.append(link)
        return link
    }
}

/// Sysctls of the host namespace, by path.
final class SysctlLog {
    var values: [String: String] = [:]
    /// How many host operations had run at each write (to check the order against `FakeRoutes.calls`).
    var atCall: [Int] = []
}

/// A host namespace with master m0 (10.9.0.1/24, fd66::1/64) and a container with eth0.
struct World {
    let dir = TempDir()
    let host = FakeRoutes()
    let container = FakeRoutes()
    let sysctls = SysctlLog()
    let master: LinkInfo
    let containerLink: LinkInfo

    init() {
        host.linkLocalOnUp = true
        master = host.addLink("m0")
        host.addressList.append(AddressInfo(index: master.index, prefix: IPPrefix("10.9.0.1/24")!, scope: RouteScope.universe))
        host.addressList.append(AddressInfo(index: master.index, prefix: IPPrefix("fd66::1/64")!, scope: RouteScope.universe))
        host.addressList.append(AddressInfo(index: master.index, prefix: IPPrefix("fe80::aa/64")!, scope: RouteScope.link))
        containerLink = container.addLink("eth0", kind: .macvlanFamily(.macvlan, mode: .bridge))
    }

    func access(_ addresses: [String] = []) throws -> HostAccess {
        let log = sysctls
        let host = self.host
        return HostAccess(config: try HostAccessConfig(addresses: addresses.map { IPPrefix($0)! }, dataDir: dir.path), host: host,
                          sysctl: { (key, value) throws(NamespaceError) in
                              log.values[key.path ?? "?"] = value
                              log.atCall.append(host.calls.count)
                          })
    }

    static func key(_ id: String, network: String = "net1", ifName: String = "eth0") -> AttachmentKey {
        AttachmentKey(network: network, containerID: id, ifName: ifName)
    }

    /// What ADD does, start to end (without the stages).
    @discardableResult
    func attach(_ access: HostAccess, _ key: AttachmentKey, _ addresses: [String]) throws -> HostAccessSetup {
        let setup = try access.begin(key, master: master, containerAddresses: addresses.map { IPPrefix($0)! })
        try setup.ensureShim()
        try setup.addHostRoutes()
        let routes = try access.containerRoutes(shim: setup.shim!, master: master, containerAddresses: addresses.map { IPPrefix($0)! })
        setup.finish()
        _ = try HostAccess.addContainerRoutes(routes, container: container, linkIndex: containerLink.index)
        return setup
    }

    var shim: LinkInfo? { host.links.first { $0.name == "mvh-m0" } }

    /// Host routes through the shim, as "destination[ src S]".
    var hostRoutes: [String] {
        guard let shim else { return [] }
        return host.routeList.filter { $0.outputIndex == shim.index }
            .map { "\($0.destination)" + ($0.source.map { " src \($0)" } ?? "") }.sorted()
    }
}
