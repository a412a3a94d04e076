import CNI
import Glibc
import JSON
@testable import Macvlan
import NetTypes
import Netlink
import TestSupport
import Testing

/// DEL is best effort in every degraded state.
@Suite struct DeleteTests: OnFakeSystem {
    let system = FakeSystem()

    func addFirst() {
        #expect(Invocation(plugin, .add, ConfigBuilder()).status == 0)
    }

    @Test func removesLinkAndReleasesAddress() {
        addFirst()
        let run = Invocation(plugin, .del, ConfigBuilder())
        #expect(run.status == 0)
        #expect(run.stdout.isEmpty)
        #expect(system.container.links.isEmpty)
        #expect(system.ipamPlugin?.calls == ["ADD", "DEL"])
    }

    @Test func repeatedDELSucceeds() {
        addFirst()
        #expect(Invocation(plugin, .del, ConfigBuilder()).status == 0)
        #expect(Invocation(plugin, .del, ConfigBuilder()).status == 0)
        #expect(system.ipamPlugin?.calls == ["ADD", "DEL", "DEL"])
    }

    @Test func emptyNetnsStillReleasesTheAddress() {
        let run = Invocation(plugin, .del, ConfigBuilder().env("CNI_NETNS", ""))
        #expect(run.status == 0)
        #expect(system.ipamPlugin?.calls == ["DEL"])
        #expect(system.container.calls.isEmpty)
    }

    @Test func namespaceGoneStillReleasesTheAddress() {
        system.containerGone = true
        #expect(Invocation(plugin, .del, ConfigBuilder()).status == 0)
        #expect(system.ipamPlugin?.calls == ["DEL"])
    }

    @Test func ownNamespaceIsRefusedBeforeAnything() throws {
        system.containerIsOwn = true
        let run = Invocation(plugin, .del, ConfigBuilder())
        #expect(run.status == 1)
        #expect(try JSONValue.parse(Array(run.stdout.utf8))["code"] == .int(4))
        #expect(system.ipamPlugin?.calls == [])
    }

    @Test func ipamDELFailingStillDeletesTheLink() throws {
        addFirst()
        system.ipamPlugin?.failures["DEL"] = CNIError(.tryAgainLater, "store busy")
        let run = Invocation(plugin, .del, ConfigBuilder())
        #expect(run.status == 1)
        #expect(try JSONValue.parse(Array(run.stdout.utf8))["code"] == .int(11))
        #expect(system.container.links.isEmpty)
    }

    @Test func linkDeletionFailingStillReleasesAndReportsBoth() throws {
        addFirst()
        system.container.failures["deleteLink"] = FakeRoutes.error(EBUSY)
        system.ipamPlugin?.failures["DEL"] = CNIError(.tryAgainLater, "store busy")
        let run = Invocation(plugin, .del, ConfigBuilder())
        let error = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(error["code"] == .int(11))  // the first failure's code
        #expect(error["msg"]?.stringValue?.contains("store busy") == true)
        #expect(error["msg"]?.stringValue?.contains("deleting eth0") == true)
    }

    @Test func foreignInterfaceIsLeftAlone() {
        system.container.links.append(LinkInfo(index: 9, name: "eth0", kind: .other("veth"), mtu: 1500))
        let run = Invocation(plugin, .del, ConfigBuilder())
        #expect(run.status == 0)
        #expect(system.container.links.map(\.index) == [9])
        #expect(run.stderr.contains("not ours"))
    }

    @Test func temporaryLinkOfAKilledADDIsRemoved() {
        let temporary = MacvlanPlugin.temporaryName.make(containerID: "c1", ifName: "eth0")
        system.container.links.append(LinkInfo(index: 51, name: temporary.text, kind: .macvlanFamily(.macvlan, mode: .bridge), mtu: 1500))
        #expect(Invocation(plugin, .del, ConfigBuilder()).status == 0)
        #expect(system.container.links.isEmpty)
    }

    @Test func linkAlreadyGoneCountsAsDeleted() {
        addFirst()
        system.container.failOnce["deleteLink"] = FakeRoutes.error(ENODEV)
        #expect(Invocation(plugin, .del, ConfigBuilder()).status == 0)
    }

    @Test func masterGoneIsNoObstacle() {
        addFirst()
        system.host.links.removeAll { $0.name == "eth0" }
        #expect(Invocation(plugin, .del, ConfigBuilder()).status == 0)
        #expect(system.container.links.isEmpty)
    }

    @Test func l2OnlyNeverCallsIPAM() {
        #expect(Invocation(plugin, .del, ConfigBuilder().removing("ipam")).status == 0)
        #expect(system.ipamPlugin?.calls == [])
    }
}

/// CHECK finds every kind of drift between prevResult and the system.
@Suite struct CheckTests: OnFakeSystem {
    let system = FakeSystem()

    /// ADD, then the config CHECK gets: the ADD's result as prevResult.
    func added(_ builder: ConfigBuilder = ConfigBuilder()) throws -> ConfigBuilder {
        let run = Invocation(plugin, .add, builder)
        #expect(run.status == 0)
        return builder.with(["prevResult": try JSONValue.parse(Array(run.stdout.utf8))])
    }

    func check(_ builder: ConfigBuilder) -> (code: Int64?, message: String) {
        let run = Invocation(plugin, .check, builder)
        guard run.status != 0 else { return (nil, "") }
        let error = try? JSONValue.parse(Array(run.stdout.utf8))
        return (error?["code"]?.intValue, error?["msg"]?.stringValue ?? "")
    }

    @Test func unchangedPasses() throws {
        let builder = try added()
        #expect(check(builder).code == nil)
        #expect(system.ipamPlugin?.calls == ["ADD", "CHECK"])
    }

    @Test func needsPrevResult() {
        #expect(check(ConfigBuilder()).code == 7)
    }

    @Test func interfaceGone() throws {
        let builder = try added()
        system.container.links.removeAll()
        let (code, message) = check(builder)
        #expect(code == 100)
        #expect(message.contains("does not exist"))
    }

    @Test func otherKind() throws {
        let builder = try added()
        system.container.links[0].kind = .other("veth")
        #expect(check(builder).message.contains("expected macvlan"))
    }

    @Test func otherMode() throws {
        let builder = try added()
        system.container.links[0].kind = .macvlanFamily(.macvlan, mode: .private)
        #expect(check(builder).message.contains("private mode"))
    }

    @Test func otherMaster() throws {
        let builder = try added()
        system.container.links[0].parentIndex = 99
        #expect(check(builder).message.contains("not a child of master eth0"))
    }

    @Test func otherMAC() throws {
        let builder = try added()
        system.container.links[0].mac = MACAddress("02:00:00:00:99:99")
        #expect(check(builder).message.contains("MAC"))
    }

    /// prevResult's MAC is compared as an address, not as text: upper case is the same MAC.
    @Test func upperCaseMACInPrevResultPasses() throws {
        let builder = try added()
        var previous = try #require(builder.object["prevResult"]?.objectValue)
        var interfaces = try #require(previous["interfaces"]?.arrayValue)
        var ours = try #require(interfaces[0].objectValue)
        let mac = try #require(ours["mac"]?.stringValue)
        ours["mac"] = .string(mac.uppercased())
        interfaces[0] = .object(ours)
        previous["interfaces"] = .array(interfaces)
        #expect(check(builder.with(["prevResult": .object(previous)])).code == nil)
    }

    @Test func otherMTU() throws {
        let builder = try added(ConfigBuilder().with(["mtu": 1400]))
        system.container.links[0].mtu = 1300
        #expect(check(builder).message.contains("MTU 1300"))
    }

    @Test func addressMissing() throws {
        let builder = try added()
        system.container.addressList.removeAll()
        let (code, message) = check(builder)
        #expect(code == 101)
        #expect(message.contains("10.77.0.2/24"))
    }

    @Test func routeMissing() throws {
        let builder = try added()
        system.container.routeList.removeAll()
        let (code, message) = check(builder)
        #expect(code == 101)
        #expect(message.contains("0.0.0.0/0"))
    }

    @Test func ipamCheckErrorIsReturned() throws {
        let builder = try added()
        system.ipamPlugin?.failures["CHECK"] = CNIError(.tryAgainLater, "lease lost")
        #expect(check(builder).code == 11)
    }

    @Test func l2OnlyDumpsNoAddressesOrRoutes() throws {
        let builder = try added(ConfigBuilder().removing("ipam"))
        let before = system.container.calls.count
        #expect(check(builder).code == nil)
        let calls = system.container.calls[before...]
        #expect(!calls.contains("addresses"))
        #expect(!calls.contains("routes"))
    }

    @Test func refusedBefore040() throws {
        let builder = try added(ConfigBuilder().with(["cniVersion": "0.3.1"]))
        #expect(check(builder).code == 1)
    }
}

/// STATUS answers whether an ADD could succeed now; STATUS and GC are forwarded to the IPAM.
@Suite struct StatusAndGCTests {
    func run(_ system: FakeSystem, _ command: Command, _ builder: ConfigBuilder = ConfigBuilder()) -> Invocation {
        Invocation(MacvlanPlugin(system: system), command, builder.with(["cniVersion": "1.1.0"]))
    }

    func code(_ run: Invocation) -> Int64? {
        run.status == 0 ? nil : (try? JSONValue.parse(Array(run.stdout.utf8)))?["code"]?.intValue
    }

    @Test func readyAndForwarded() {
        let system = FakeSystem()
        #expect(code(run(system, .status)) == nil)
        #expect(system.ipamPlugin?.calls == ["STATUS"])
    }

    @Test func masterDownIsANoteNotAnError() {
        let system = FakeSystem(masterUp: false)
        let status = run(system, .status)
        #expect(code(status) == nil)
        #expect(status.stderr.contains("is down"))
    }

    @Test func masterMissingIs50() {
        #expect(code(run(FakeSystem(), .status, ConfigBuilder().with(["master": "nosuch0"]))) == 50)
    }

    @Test func masterUnusableIs50() {
        #expect(code(run(FakeSystem(), .status, ConfigBuilder().with(["master": "lo"]))) == 50)
    }

    @Test func noDefaultRouteIs50() {
        let system = FakeSystem()
        system.host.defaultRoute = nil
        #expect(code(run(system, .status, ConfigBuilder().with(["master": ""]))) == 50)
    }

    @Test func linkInContainerSkipsTheMaster() {
        let system = FakeSystem()
        #expect(code(run(system, .status, ConfigBuilder().with(["master": "nosuch0", "linkInContainer": true]))) == nil)
    }

    @Test func ipamStatusErrorIsReturned() {
        let system = FakeSystem()
        system.ipamPlugin?.failures["STATUS"] = CNIError(.notAvailableLimitedConnectivity, "pool degraded")
        #expect(code(run(system, .status)) == 51)
    }

    @Test func configErrorKeepsCode7() {
        #expect(code(run(FakeSystem(), .status, ConfigBuilder().with(["mode": "sideways"]))) == 7)
    }

    @Test func gcIsForwarded() {
        let system = FakeSystem()
        #expect(code(run(system, .gc)) == nil)
        #expect(system.ipamPlugin?.calls == ["GC"])
    }

    @Test func gcErrorIsReturned() {
        let system = FakeSystem()
        system.ipamPlugin?.failures["GC"] = CNIError(.tryAgainLater, "busy")
        #expect(code(run(system, .gc)) == 11)
    }

    @Test func gcWithoutIPAMTouchesNothing() {
        let system = FakeSystem()
        #expect(code(run(system, .gc, ConfigBuilder().removing("ipam"))) == nil)
        #expect(system.host.calls.isEmpty)
        #expect(system.container.calls.isEmpty)
    }

    @Test(arguments: [Command.status, .gc])
    func refusedBefore110(_ command: Command) {
        let invocation = Invocation(MacvlanPlugin(system: FakeSystem()), command, ConfigBuilder())
        #expect(code(invocation) == 1)
    }
}
