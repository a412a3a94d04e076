import CNI
import Glibc
import JSON
import LinkPlugin
import NetTypes
import Netlink
import TestSupport
import Testing

/// ADD failing at every stage: the error is the original one, the link is gone, IPAM DEL ran (also when IPAM
/// ADD itself failed), and undo failures are collected in the details.
@Suite struct RollbackTests: OnFakeSystem {
    let system = FakeSystem()

    func failingAdd(_ builder: ConfigBuilder = ConfigBuilder()) throws -> JSONValue {
        let run = Invocation(plugin, .add, builder)
        #expect(run.status == 1)
        return try JSONValue.parse(Array(run.stdout.utf8))
    }

    /// Nothing of the ADD is left: no link in the container, nothing new on the host.
    func expectClean(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(system.container.links.isEmpty, "\(system.container.links.map(\.name))", sourceLocation: sourceLocation)
        #expect(system.container.addressList.isEmpty, sourceLocation: sourceLocation)
        #expect(system.container.routeList.isEmpty, sourceLocation: sourceLocation)
        #expect(system.host.links.count == 2, sourceLocation: sourceLocation)
    }

    @Test func createFailsNothingToUndoButIPAMNeverRan() throws {
        system.host.failures["createMacvlan"] = FakeRoutes.error(EPERM)
        let error = try failingAdd()
        #expect(error["code"] == .int(100))
        #expect(system.ipamPlugin?.calls == [])
        expectClean()
    }

    @Test func renameFailsLinkDeleted() throws {
        system.host.checksNameOnCreatingSide = true  // the temporary-name path; the fake host has its own eth0
        system.container.failures["renameLink"] = FakeRoutes.error(EBUSY)
        let error = try failingAdd()
        #expect(error["code"] == .int(100))
        #expect(error["msg"]?.stringValue?.contains("renaming") == true)
        expectClean()
        #expect(system.ipamPlugin?.calls == [])
    }

    @Test func ifnameAppearingDuringTheADDIsCode4() throws {
        system.host.checksNameOnCreatingSide = true
        system.container.failures["renameLink"] = FakeRoutes.error(EEXIST)
        #expect(try failingAdd()["code"] == .int(4))
        expectClean()
    }

    @Test(arguments: [false, true])
    func creationCutShortBySignalStillUndoesTheLink(creatingSideCheck: Bool) throws {
        // The link may exist although its creation's answer never arrived; an L2 ADD never learns the index,
        // so its undo finds the link by name (CNI_IFNAME, or the temporary name on the fallback path).
        system.host.checksNameOnCreatingSide = creatingSideCheck
        system.host.interruptAfterCreating = true
        let error = try failingAdd(ConfigBuilder().removing("ipam"))
        #expect(error["code"] == .int(104))
        expectClean()
    }

    @Test func temporaryNamePathIPAMFailureDeletesTheRenamedLink() throws {
        system.host.checksNameOnCreatingSide = true
        system.ipamPlugin?.failures["ADD"] = CNIError(.tryAgainLater, "pool exhausted")
        #expect(try failingAdd()["code"] == .int(11))
        #expect(system.container.calls.contains("renameLink"))
        expectClean()
    }

    @Test func ipamADDFailsItsCodeKeptAndIPAMDELStillRuns() throws {
        system.ipamPlugin?.failures["ADD"] = CNIError(.tryAgainLater, "pool exhausted")
        let error = try failingAdd()
        #expect(error["code"] == .int(11))
        #expect(system.ipamPlugin?.calls == ["ADD", "DEL-rollback"])
        expectClean()
    }

    @Test func ipamWithoutAddressesIs102() throws {
        system.ipamPlugin?.result = CNIResult()
        #expect(try failingAdd()["code"] == .int(102))
        #expect(system.ipamPlugin?.calls == ["ADD", "DEL-rollback"])
        expectClean()
    }

    @Test(arguments: ["0.0.0.0/0", "::/64", "127.0.0.5/8", "224.0.0.5/24", "ff02::5/64", "255.255.255.255/32"])
    func unusableAddressRefusedBeforeAnythingIsApplied(_ address: String) throws {
        system.ipamPlugin?.result = CNIResult(ips: [CNIResult.IPConfig(address: IPPrefix("10.77.0.2/24")!),
                                                    CNIResult.IPConfig(address: IPPrefix(address)!)])
        let error = try failingAdd()
        #expect(error["code"] == .int(102))
        #expect(error["msg"]?.stringValue?.contains(address) == true)
        #expect(error["msg"]?.stringValue?.contains("fake") == true)  // the IPAM plugin is named
        #expect(!system.container.calls.contains("addAddress"))
        #expect(system.sysctls.written.isEmpty)
        #expect(system.ipamPlugin?.calls == ["ADD", "DEL-rollback"])
        expectClean()
    }

    @Test func sysctlFailureRollsBack() throws {
        system.sysctls.failure = CNIError(.ioFailure, "sysctl refused")
        #expect(try failingAdd()["code"] == .int(5))
        expectClean()
        #expect(system.ipamPlugin?.calls == ["ADD", "DEL-rollback"])
    }

    @Test func addressRefusedIs101() throws {
        system.container.failures["addAddress"] = FakeRoutes.error(EADDRNOTAVAIL)
        #expect(try failingAdd()["code"] == .int(101))
        expectClean()
    }

    @Test func addressTheKernelDoesNotListIsNeverReported() throws {
        system.container.swallowedAddresses = [IPPrefix("10.77.0.2/24")!]
        let error = try failingAdd()
        #expect(error["code"] == .int(101))
        #expect(error["msg"]?.stringValue?.contains("10.77.0.2/24") == true)
        expectClean()
    }

    @Test func linkUpFailureRollsBack() throws {
        system.container.failures["setLinkUp"] = FakeRoutes.error(ENETDOWN)
        #expect(try failingAdd()["code"] == .int(100))
        expectClean()
    }

    @Test func routeRefusedIs101() throws {
        system.container.failures["addRoute"] = FakeRoutes.error(ENETUNREACH)
        let error = try failingAdd()
        #expect(error["code"] == .int(101))
        #expect(error["msg"]?.stringValue?.contains("0.0.0.0/0") == true)
        expectClean()
        #expect(system.ipamPlugin?.calls == ["ADD", "DEL-rollback"])
    }

    @Test func undoOrderIsNewestFirst() throws {
        system.container.failures["addRoute"] = FakeRoutes.error(ENETUNREACH)
        system.ipamPlugin?.failures["DEL"] = CNIError(.ioFailure, "store unreachable")
        _ = try failingAdd()
        // The IPAM release was registered after the link: it ran first, and its failure did not stop the link's removal.
        #expect(system.container.links.isEmpty)
        #expect(system.container.calls.last == "deleteLink")
    }

    @Test func undoFailuresAreCollectedAndTheOriginalErrorKept() throws {
        system.container.failures["addRoute"] = FakeRoutes.error(ENETUNREACH)
        system.container.failures["deleteLink"] = FakeRoutes.error(EBUSY)
        system.ipamPlugin?.failures["DEL"] = CNIError(.ioFailure, "store unreachable")
        let run = Invocation(plugin, .add, ConfigBuilder())
        let error = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(error["code"] == .int(101))  // the route's failure, not an undo's
        let details = try #require(error["details"]?.stringValue)
        #expect(details.contains("rollback incomplete"))
        #expect(details.contains("store unreachable"))
        #expect(details.contains("delete the new link"))
        #expect(run.stderr.contains("rollback: could not"))
    }

    @Test func unprintableResultRollsBack() throws {
        // A chained prevResult in 0.2.0 with ours: fine; an L2-only network in 0.2.0 is refused before anything.
        let error = try failingAdd(ConfigBuilder().with(["cniVersion": "0.2.0"]).removing("ipam"))
        #expect(error["code"] == .int(1))
        expectClean()
    }

    @Test func ifnameAlreadyInTheContainerIsLeftUntouched() throws {
        system.container.links.append(LinkInfo(index: 9, name: "eth0", kind: .other("veth"), mtu: 1500))
        #expect(try failingAdd()["code"] == .int(4))
        #expect(system.container.links.map(\.index) == [9])
        #expect(system.ipamPlugin?.calls == [])
    }

    @Test func masterMissingChangesNothing() throws {
        #expect(try failingAdd(ConfigBuilder().with(["master": "nosuch0"]))["code"] == .int(7))
        #expect(system.host.calls.allSatisfy { $0 == "link" })
        #expect(system.ipamPlugin?.calls == [])
    }

    @Test func mtuAboveTheMastersChangesNothing() throws {
        let error = try failingAdd(ConfigBuilder().with(["mtu": 9000]))
        #expect(error["code"] == .int(7))
        #expect(error["msg"]?.stringValue?.contains("1500") == true)
        expectClean()
    }

    @Test(arguments: ["lo"])
    func unusableMasterChangesNothing(_ master: String) throws {
        #expect(try failingAdd(ConfigBuilder().with(["master": .string(master)]))["code"] == .int(7))
        expectClean()
    }

    @Test func masterThatIsAMacvlanIsRefused() throws {
        system.host.links.append(LinkInfo(index: 3, name: "mv0", kind: .macvlanFamily(.macvlan, mode: .bridge), mtu: 1500, hardwareType: HardwareType.ether))
        let error = try failingAdd(ConfigBuilder().with(["master": "mv0"]))
        #expect(error["code"] == .int(7))
        #expect(error["msg"]?.stringValue?.contains("itself a macvlan child") == true)
    }
}

/// The stage checkpoints in the order an ADD passes them: the declared order is the real one.
@Suite struct StageOrderTests {
    @Test func declaredOrderMatchesTheADD() {
        #expect(AddStage.allCases.map(\.rawValue) == ["validated", "link-created", "renamed", "ipam-added", "addresses-added", "up", "routes-added",
                                                  "host-access-recorded", "shim-ready", "host-routes-added", "container-routes-added"])
    }

    @Test func noSignalNoError() throws {
        for stage in AddStage.allCases { try stage.reached() }
    }
}
