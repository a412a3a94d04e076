import CNI
import Glibc
import JSON
import NetTypes
import Netlink
import TestSupport
import Testing

/// IPAM overlapped with the link's creation (host-local, static, and types listed in `ipamWithoutInterface`):
/// started before the link exists, finished after; a failure on either side rolls back exactly, the IPAM DEL
/// coming after the running ADD was waited for. dhcp and unknown types stay sequential.
@Suite(.serialized) struct IPAMOverlapTests: OnFakeSystem {
    let system = FakeSystem()

    func run(_ builder: ConfigBuilder, ipamType: String) -> Invocation {
        system.ipamPlugin = FakeIPAM(type: ipamType)
        return Invocation(plugin, .add, builder)
    }

    func expectClean(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(system.container.links.isEmpty, sourceLocation: sourceLocation)
        #expect(system.container.addressList.isEmpty, sourceLocation: sourceLocation)
        #expect(system.host.links.count == 2, sourceLocation: sourceLocation)
    }

    @Test(arguments: ["host-local", "static"])
    func knownTypesStartBeforeTheLinkAndFinishAfter(_ type: String) throws {
        let run = run(ConfigBuilder(), ipamType: type)
        #expect(run.status == 0, "\(run.stdout)")
        #expect(system.ipamPlugin?.calls == ["ADD-start", "ADD-finish"])
        #expect(system.container.addressList.map(\.prefix) == [IPPrefix("10.77.0.2/24")!])
    }

    @Test func configListAddsTypes() throws {
        let run = run(ConfigBuilder().with(["ipamWithoutInterface": ["whereabouts"]]), ipamType: "whereabouts")
        #expect(run.status == 0)
        #expect(system.ipamPlugin?.calls == ["ADD-start", "ADD-finish"])
    }

    @Test(arguments: ["dhcp", "some-ipam"])
    func dhcpAndUnknownTypesRunAfterTheLinkExists(_ type: String) throws {
        let run = run(ConfigBuilder(), ipamType: type)
        #expect(run.status == 0)
        #expect(system.ipamPlugin?.calls == ["ADD"])
    }

    @Test func wrongListIsCode7BeforeAnything() throws {
        let run = run(ConfigBuilder().with(["ipamWithoutInterface": "whereabouts"]), ipamType: "whereabouts")
        #expect(run.status == 1)
        #expect(run.stdout.contains("ipamWithoutInterface"))
        #expect(system.ipamPlugin?.calls == [])
        #expect(!system.host.calls.contains("createMacvlan"))
    }

    /// Either side failing: its code is kept, the running IPAM ADD is waited for, then released; the link is gone.
    @Test(arguments: [("link", 100), ("ipam", 11)])
    func eitherSideFailingRollsBackBoth(_ side: String, _ code: Int) throws {
        system.ipamPlugin = FakeIPAM(type: "host-local")
        if side == "link" { system.host.failures["createMacvlan"] = FakeRoutes.error(EPERM) }
        if side == "ipam" { system.ipamPlugin?.failures["ADD"] = CNIError(.tryAgainLater, "pool exhausted") }
        let run = Invocation(plugin, .add, ConfigBuilder())
        #expect(run.status == 1)
        #expect(run.stdout.contains("\"code\": \(code)"))
        #expect(system.ipamPlugin?.calls == ["ADD-start", "ADD-finish", "DEL-rollback"])
        expectClean()
    }

    @Test func ipamThatCannotStartStillGetsItsDEL() throws {
        system.ipamPlugin = FakeIPAM(type: "static")
        system.ipamPlugin?.failures["ADD-start"] = CNIError(.init(rawValue: 103), "could not be started")
        let run = Invocation(plugin, .add, ConfigBuilder())
        #expect(run.status == 1)
        #expect(system.ipamPlugin?.calls == ["ADD-start", "DEL-rollback"])
        #expect(!system.host.calls.contains("createMacvlan"))
        expectClean()
    }

    @Test func addressesFailingAfterTheOverlapRollBackBoth() throws {
        system.container.failures["addAddress"] = FakeRoutes.error(EINVAL)
        let run = run(ConfigBuilder(), ipamType: "host-local")
        #expect(run.status == 1)
        #expect(system.ipamPlugin?.calls == ["ADD-start", "ADD-finish", "DEL-rollback"])
        expectClean()
    }
}

/// A second ADD of a live attachment: the creation refuses CNI_IFNAME (code 4); the overlapped IPAM ADD was
/// refused too (host-local: duplicate allocation), so no IPAM DEL may release the live attachment's address.
@Suite(.serialized) struct IPAMOverlapSecondADDTests: OnFakeSystem {
    let system = FakeSystem()

    @Test func failedOverlappedADDIsNotReleasedWhenIfnameExists() throws {
        system.ipamPlugin = FakeIPAM(type: "host-local")
        system.container.links.append(LinkInfo(index: 9, name: "eth0", kind: .macvlanFamily(.macvlan, mode: .bridge), mtu: 1500))
        system.ipamPlugin?.failures["ADD"] = CNIError(.init(rawValue: 999), "10.77.0.2 has been allocated to c1, duplicate allocation is not allowed")
        let run = Invocation(plugin, .add, ConfigBuilder())
        #expect(run.stdout.contains("\"code\": 4"))
        #expect(system.ipamPlugin?.calls == ["ADD-start", "ADD-finish"])
        #expect(system.container.links.map(\.index) == [9])
    }

    @Test func succeededOverlappedADDIsReleasedWhenIfnameExists() throws {
        system.ipamPlugin = FakeIPAM(type: "host-local")
        system.container.links.append(LinkInfo(index: 9, name: "eth0", kind: .other("veth"), mtu: 1500))
        let run = Invocation(plugin, .add, ConfigBuilder())
        #expect(run.stdout.contains("\"code\": 4"))
        #expect(system.ipamPlugin?.calls == ["ADD-start", "ADD-finish", "DEL-rollback"])
        #expect(system.container.links.map(\.index) == [9])
    }
}
