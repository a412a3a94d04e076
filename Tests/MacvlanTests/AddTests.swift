import CNI
import Foundation
import JSON
import LinkPlugin
@testable import Macvlan
import NetTypes
import Netlink
import TestSupport
import Testing

/// ADD in-process against fakes: each step, L2 and IPAM.
@Suite struct AddTests: OnFakeSystem {
    let system = FakeSystem()

    func add(_ builder: ConfigBuilder = ConfigBuilder()) throws -> JSONValue {
        let run = Invocation(plugin, .add, builder)
        #expect(run.status == 0, "\(run.stdout)")
        return try JSONValue.parse(Array(run.stdout.utf8))
    }

    var eth0: LinkInfo? { system.container.links.first { $0.name == "eth0" } }

    @Test func createsTheLinkInTheContainerUnderItsFinalName() throws {
        _ = try add()
        let link = try #require(eth0)
        #expect(link.kind == .macvlanFamily(.macvlan, mode: .bridge))
        #expect(link.parentIndex == 2)
        #expect(!system.container.links.contains { $0.name.hasPrefix("mvtmp") })
        #expect(system.host.links.count == 2)  // nothing new on the host
    }

    /// The fault build lists `AddStage.allCases` as the order ADD passes its checkpoints (the harness pauses at
    /// each in that order); this holds the declaration to what ADD really does.
    @Test func ipamAddPassesItsCheckpointsInTheDeclaredOrder() throws {
        _ = try add()
        #expect(system.stagesPassed == AddStage.shared)
    }

    @Test func hostAccessAddPassesEveryCheckpointInTheDeclaredOrder() throws {
        // Its own state directory: the default under /run/cni is the machine's, and a normal user cannot write it.
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("hostaccess-stages-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        _ = try add(ConfigBuilder().with(["hostAccess": ["dataDir": .string(dataDir)]]))
        #expect(system.stagesPassed == AddStage.allCases)
    }

    @Test func l2AddPassesItsCheckpointsInTheDeclaredOrder() throws {
        _ = try add(ConfigBuilder().removing("ipam"))
        #expect(system.stagesPassed == [.validated, .linkCreated, .renamed, .up])
        #expect(system.stagesPassed == AddStage.allCases.filter(system.stagesPassed.contains))
    }

    @Test func alwaysSendsTheMode() throws {
        _ = try add(ConfigBuilder().with(["mode": "vepa"]))
        #expect(eth0?.kind?.macvlanMode == .vepa)
    }

    @Test func appliesMTUAndMAC() throws {
        _ = try add(ConfigBuilder().with(["mtu": 1400, "mac": "02:00:00:00:00:aa"]))
        #expect(eth0?.mtu == 1400)
        #expect(eth0?.mac == MACAddress("02:00:00:00:00:aa"))
    }

    @Test func inheritsTheMastersMTU() throws {
        _ = try add()
        #expect(eth0?.mtu == 1500)
    }

    @Test func resultDescribesTheInterface() throws {
        let result = try add()
        #expect(result["interfaces"]?.arrayValue?.first?["name"] == "eth0")
        #expect(result["interfaces"]?.arrayValue?.first?["sandbox"] == "/var/run/netns/c1")
        #expect(result["interfaces"]?.arrayValue?.first?["mac"]?.stringValue == eth0?.mac?.description)
        #expect(result["cniVersion"] == "1.0.0")
    }

    @Test func ipamAddressesAndRoutesAreApplied() throws {
        let result = try add()
        let index = try #require(eth0?.index)
        #expect(system.container.addressList.map(\.prefix) == [IPPrefix("10.77.0.2/24")!])
        #expect(system.container.addressList.first?.index == index)
        let route = try #require(system.container.routeList.first)
        #expect(route.destination == IPPrefix("0.0.0.0/0"))
        #expect(route.gateway == IPAddress("10.77.0.1"))  // the address's gateway, as the reference applies it
        #expect(result["ips"]?.arrayValue?.first?["address"] == "10.77.0.2/24")
        #expect(result["ips"]?.arrayValue?.first?["interface"] == .int(0))
    }

    @Test func ipamLinkComesUpAfterItsAddresses() throws {
        _ = try add()
        #expect(eth0?.isUp == true)
        let calls = system.container.calls
        let up = try #require(calls.firstIndex(of: "setLinkUp"))
        #expect(calls.firstIndex(of: "addAddress")! < up)
        #expect(calls.firstIndex(of: "addRoute")! > up)
        #expect(!calls.contains("renameLink") || true)
    }

    @Test func l2OnlyIsTwoRoundTripsMasterLookupAndCreation() throws {
        let result = try add(ConfigBuilder().removing("ipam").with(["cniVersion": "1.1.0"]))
        #expect(system.host.calls == ["link", "createMacvlan"])
        #expect(system.container.calls.isEmpty)  // nothing read back, no lookup before
        let link = try #require(eth0)
        #expect(link.isUp)
        let interface = result["interfaces"]?.arrayValue?.first
        #expect(interface?["mac"]?.stringValue == link.mac?.description)
        #expect(interface?["mtu"] == .int(1500))  // the master's, which the child inherits
    }

    @Test func macChosenAsTheKernelWouldRandomUnicastLocallyAdministered() throws {
        _ = try add(ConfigBuilder().removing("ipam"))
        let mac = try #require(eth0?.mac)
        #expect(mac.isAssignable && mac.isLocallyAdministered)
        var seen: Set<MACAddress> = []
        for _ in 0..<64 { seen.insert(MACAddress.randomLocallyAdministered()) }
        #expect(seen.count == 64)
        #expect(seen.allSatisfy { $0.isAssignable && $0.isLocallyAdministered })
    }

    @Test func passthruReadsTheMACTheKernelGaveBack() throws {
        let result = try add(ConfigBuilder().removing("ipam").with(["mode": "passthru"]))
        #expect(system.container.calls == ["link"])
        #expect(result["interfaces"]?.arrayValue?.first?["mac"]?.stringValue == eth0?.mac?.description)
    }

    @Test func existingIfnameRefusedByTheCreationItselfAndLeftAlone() throws {
        system.container.links.append(LinkInfo(index: 7, name: "eth0", kind: .other("veth"), mtu: 1500, hardwareType: HardwareType.ether))
        let run = Invocation(plugin, .add, ConfigBuilder().removing("ipam"))
        #expect(run.status == 1)
        #expect(run.stdout.contains("\"code\": 4") || run.stdout.contains("\"code\":4"))
        #expect(system.container.links.map(\.index) == [7])
        #expect(system.host.calls == ["link", "createMacvlan"])
    }

    @Test func creatingSideNameCheckFallsBackToTheTemporaryNameAndRename() throws {
        system.host.checksNameOnCreatingSide = true  // the fake host has its own eth0 (the master)
        let result = try add(ConfigBuilder().removing("ipam"))
        let link = try #require(eth0)
        #expect(link.isUp)
        #expect(system.container.calls.contains("renameLink"))
        #expect(!system.container.links.contains { $0.name.hasPrefix("mvtmp") })
        #expect(result["interfaces"]?.arrayValue?.first?["mac"]?.stringValue == link.mac?.description)
    }

    @Test func creatingSideNameCheckStillRefusesAnExistingIfname() throws {
        system.host.checksNameOnCreatingSide = true
        system.container.links.append(LinkInfo(index: 7, name: "eth0", kind: .other("veth"), mtu: 1500, hardwareType: HardwareType.ether))
        let run = Invocation(plugin, .add, ConfigBuilder().removing("ipam"))
        #expect(run.status == 1)
        #expect(system.container.links.map(\.index) == [7])
        #expect(!system.host.calls.contains("renameLink") && !system.container.calls.contains("renameLink"))
    }

    @Test func l2OnlyComesUpWithTheRename() throws {
        let result = try add(ConfigBuilder().removing("ipam"))
        #expect(eth0?.isUp == true)
        #expect(!system.container.calls.contains("setLinkUp"))
        #expect(system.container.addressList.isEmpty)
        #expect(result["ips"] == nil)
        #expect(system.ipamPlugin?.calls == [])
    }

    @Test func announceSysctlsAreSet() throws {
        _ = try add()
        let keys = system.sysctls.written.map(\.key)
        #expect(keys.contains(.ipv4(interface: "eth0", name: "arp_notify")))
        #expect(keys.contains(.ipv6(interface: "eth0", name: "ndisc_notify")))
        #expect(!keys.contains(.ipv6(interface: "eth0", name: "disable_ipv6")))
        #expect(system.sysctls.written.first { $0.key == .ipv6(interface: "eth0", name: "ndisc_notify") }?.required == false)
    }

    @Test func ipv6EnablesIPv6AndWaitsForDAD() throws {
        system.ipamPlugin?.result = CNIResult(ips: [CNIResult.IPConfig(address: IPPrefix("2001:db8::2/64")!, gateway: IPAddress("2001:db8::1"))],
                                              routes: [CNIResult.Route(destination: IPPrefix("::/0")!)])
        system.container.tentativeDumps = 2
        _ = try add()
        #expect(system.sysctls.written.contains { $0.key == .ipv6(interface: "eth0", name: "disable_ipv6") && $0.value == "0" })
        #expect(system.container.calls.filter { $0 == "addresses" }.count == 3)  // two tentative dumps, then settled
        #expect(system.container.routeList.first?.gateway == IPAddress("2001:db8::1"))
    }

    /// The kernel's link-local address is tentative right after the link comes up: an IPv4-only ADD reads the
    /// addresses back once and does not wait for its DAD (that cost seconds per ADD).
    @Test func ipv4OnlyDoesNotWaitForTheLinkLocalsDAD() throws {
        system.container.addressList.append(AddressInfo(index: 101, prefix: IPPrefix("fe80::1/64")!))
        system.container.tentativeDumps = 1000
        _ = try add()
        #expect(system.container.calls.filter { $0 == "addresses" }.count == 1)
    }

    @Test func ipamDNSIsMergedAfterTheConfigs() throws {
        system.ipamPlugin?.result.dns = DNS(nameservers: ["10.0.0.53", "10.0.0.54"])
        let result = try add(ConfigBuilder().with(["dns": ["nameservers": ["10.0.0.54", "10.0.0.9"]]]))
        #expect(result["dns"]?["nameservers"] == ["10.0.0.54", "10.0.0.9", "10.0.0.53"])
    }

    @Test func prevResultIsKeptInFront() throws {
        let previous: JSONValue = ["cniVersion": "1.0.0", "interfaces": [["name": "veth0"]], "ips": [["address": "10.9.0.2/24", "interface": 0]]]
        let result = try add(ConfigBuilder().with(["prevResult": previous]))
        #expect(result["interfaces"]?.arrayValue?.count == 2)
        #expect(result["ips"]?.arrayValue?.count == 2)
        #expect(result["ips"]?.arrayValue?.last?["interface"] == .int(1))
    }

    @Test func resultInTheConfigsVersion() throws {
        let result = try add(ConfigBuilder().with(["cniVersion": "0.4.0"]))
        #expect(result["cniVersion"] == "0.4.0")
        #expect(result["ips"]?.arrayValue?.first?["version"] == "4")
    }

    @Test func linkInContainerCreatesBesideTheMasterInTheContainer() throws {
        system.container.links.append(LinkInfo(index: 7, name: "eth1", kind: .other("veth"), mtu: 1500, hardwareType: HardwareType.ether))
        _ = try add(ConfigBuilder().with(["master": "eth1", "linkInContainer": true]))
        #expect(eth0?.parentIndex == 7)
        #expect(eth0?.linkNetnsID == nil)
    }

    @Test func defaultMasterFromTheDefaultRoute() throws {
        _ = try add(ConfigBuilder().with(["master": ""]))
        #expect(eth0?.parentIndex == 2)
    }

    @Test func ipamIsCalledOnceWithoutDEL() throws {
        _ = try add()
        #expect(system.ipamPlugin?.calls == ["ADD"])
    }

    @Test func staleTemporaryLinkOfAKilledADDIsReplaced() throws {
        system.host.checksNameOnCreatingSide = true
        let stale = MacvlanPlugin.temporaryName.make(containerID: "c1", ifName: "eth0")
        system.container.links.append(LinkInfo(index: 50, name: stale.text, kind: .macvlanFamily(.macvlan, mode: .bridge), mtu: 1500, hardwareType: HardwareType.ether))
        _ = try add()
        #expect(eth0 != nil)
        #expect(!system.container.links.contains { $0.index == 50 })
    }

    @Test func routeThatAlreadyExistsIsKept() throws {
        system.container.routeList.append(RouteInfo(destination: IPPrefix("0.0.0.0/0")!, gateway: IPAddress("10.77.0.254")))
        let run = Invocation(plugin, .add, ConfigBuilder())
        #expect(run.status == 0)
        #expect(run.stderr.contains("already exists"))
    }
}
