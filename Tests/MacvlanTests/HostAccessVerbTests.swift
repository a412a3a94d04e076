import CNI
import Foundation
import Glibc
import JSON
import LinkPlugin
@testable import Macvlan
import NetTypes
import Netlink
import TestSupport
import Testing

/// The verbs with hostAccess, in-process against the fake system: ADD adds the shim and routes and undoes them
/// on failure, DEL removes them with or without the container, CHECK sees drift, GC collects.
@Suite(.serialized) final class HostAccessVerbTests {
    let system = FakeSystem()
    let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("hostaccess-verbs-\(UUID().uuidString)").path
    var plugin: MacvlanPlugin { MacvlanPlugin(system: system) }
    var builder: ConfigBuilder { ConfigBuilder().with(["hostAccess": ["dataDir": .string(dataDir)]]) }

    init() {
        system.host.linkLocalOnUp = true
        system.host.addressList += [AddressInfo(index: 2, prefix: IPPrefix("10.77.0.1/24")!, scope: RouteScope.universe),
                                    AddressInfo(index: 2, prefix: IPPrefix("fd77::1/64")!, scope: RouteScope.universe)]
        system.ipamPlugin?.result = CNIResult(ips: [CNIResult.IPConfig(address: IPPrefix("10.77.0.2/24")!),
                                                    CNIResult.IPConfig(address: IPPrefix("fd77::2/64")!)])
    }

    deinit { try? FileManager.default.removeItem(atPath: dataDir) }

    var shim: LinkInfo? { system.host.links.first { $0.name == "mvh-eth0" } }
    var records: [String] {
        (FileManager.default.enumerator(atPath: dataDir)?.allObjects as? [String] ?? []).filter { $0.contains(":") }
    }

    func run(_ command: Command, _ b: ConfigBuilder? = nil) -> Invocation { Invocation(plugin, command, b ?? builder) }

    @Test func addThenDelete() throws {
        let add = run(.add)
        #expect(add.status == 0, "\(add.stdout)")
        let shim = try #require(shim)
        #expect(shim.alias == "macvlan-cni host access shim" && shim.isUp && shim.parentIndex == 2)
        #expect(system.host.routeList.filter { $0.outputIndex == shim.index }.map(\.destination.description).sorted() == ["10.77.0.2/32", "fd77::2/128"])
        #expect(system.container.routeList.contains { $0.destination == IPPrefix("fd77::1/128") && $0.gateway?.description.hasPrefix("fe80::") == true })
        #expect(system.ownSysctls["/proc/sys/net/ipv6/conf/mvh-eth0/accept_ra"] == "0")
        #expect(records == ["net/c1:eth0"])
        #expect(run(.del).status == 0)
        #expect(self.shim == nil && records.isEmpty)
        #expect(run(.del).status == 0)
    }

    @Test func aFailingHostRouteRollsBackEverything() throws {
        system.host.failures["addRoute"] = FakeRoutes.error(EPERM)
        let add = run(.add)
        #expect(add.status == 1 && add.stdout.contains("host route"), "\(add.stdout)")
        #expect(shim == nil && records.isEmpty)
        #expect(system.container.links.isEmpty)
        #expect(system.ipamPlugin?.calls == ["ADD", "DEL-rollback"])
    }

    @Test func aFailingContainerRouteTakesTheHostSideBack() throws {
        system.container.failures["addRoute"] = FakeRoutes.error(ENETUNREACH)
        let add = run(.add)
        #expect(add.status == 1, "\(add.stdout)")
        #expect(add.stdout.contains("to the host"))
        #expect(shim == nil && records.isEmpty && system.container.links.isEmpty)
    }

    @Test func delWithoutTheContainerStillRemovesTheHostSide() throws {
        #expect(run(.add).status == 0)
        system.containerGone = true
        #expect(run(.del).status == 0)
        #expect(shim == nil && records.isEmpty)
    }

    @Test func delRefusingTheOwnNamespaceTouchesNothing() throws {
        #expect(run(.add).status == 0)
        system.containerIsOwn = true
        #expect(run(.del).status == 1)
        #expect(shim != nil && records.count == 1)
    }

    @Test func checkSeesAMissingHostRoute() throws {
        let add = run(.add)
        let result = try JSONValue.parse(Array(add.stdout.utf8))
        let checked = builder.with(["prevResult": result])
        #expect(run(.check, checked).status == 0)
        system.host.routeList.removeAll { $0.destination == IPPrefix("10.77.0.2/32") }
        let check = run(.check, checked)
        #expect(check.status == 1 && check.stdout.contains("10.77.0.2/32"), "\(check.stdout)")
    }

    @Test func gcCollectsWhatIsNotValid() throws {
        #expect(run(.add).status == 0)
        let keep = run(.gc, builder.with(["cniVersion": "1.1.0", "cni.dev/valid-attachments": [["containerID": "c1", "ifname": "eth0"]]]))
        #expect(keep.status == 0 && shim != nil && records.count == 1)
        let none = run(.gc, builder.with(["cniVersion": "1.1.0", "cni.dev/valid-attachments": []]))
        #expect(none.status == 0, "\(none.stdout)")
        #expect(shim == nil && records.isEmpty)
        #expect(system.ipamPlugin?.calls.filter { $0 == "GC" }.count == 2)
    }
}
