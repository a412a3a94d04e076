import CNI
import JSON
import LinkPlugin
@testable import Macvlan
import NetTypes
import Netlink
import TestSupport
import Testing

/// The macvlan keys beyond the reference's: bclim, queues, macPrefix, ipv6; validated with code 7.
@Suite struct KnobsConfigTests {
    @Test func linkKnobsDecoded() throws {
        let c = try config(["bclim": -1, "numTxQueues": 4, "numRxQueues": 2])
        #expect(c.broadcastCutoff == -1 && c.transmitQueues == 4 && c.receiveQueues == 2)
        let defaults = try config()
        #expect(defaults.broadcastCutoff == nil && defaults.transmitQueues == nil && defaults.receiveQueues == nil && defaults.ipv6 == nil)
    }

    static let badValues: [(JSONObject, String)] = [
        (["bclim": -2], "\"bclim\" is -2, outside -1...2147483647"),
        (["bclim": 2147483648], "\"bclim\" is 2147483648"),
        (["bclim": "1"], "\"bclim\" must be an integer"),
        (["numTxQueues": 0], "\"numTxQueues\" is 0, outside 1...4096"),
        (["numRxQueues": 4097], "\"numRxQueues\" is 4097, outside 1...4096"),
        (["numTxQueues": "2"], "\"numTxQueues\" must be an integer"),
        (["macPrefix": "01:00"], "\"macPrefix\" \"01:00\" is a multicast prefix"),
        (["ipv6": ["dad": "later"]], "\"ipv6.dad\" \"later\" is not a DAD mode"),
    ]

    @Test(arguments: badValues)
    func badValuesNameKeyAndValue(overrides: JSONObject, message: String) {
        do { _ = try config(overrides); Issue.record("accepted \(overrides)") } catch {
            #expect(error.code == .invalidConfig)
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func macPrefixHasTheLowestPrecedence() throws {
        let derived = try config(["macPrefix": "02:42"]).mac
        #expect(derived.map { Array($0.bytes.prefix(2)) } == [0x02, 0x42])
        #expect(try config(["macPrefix": "02:42", "mac": "02:00:00:00:00:01"]).mac == MACAddress("02:00:00:00:00:01"))
        #expect(try config(["macPrefix": "02:42"], args: "MAC=02:00:00:00:00:02").mac == MACAddress("02:00:00:00:00:02"))
        #expect(try config(["macPrefix": "02:42", "runtimeConfig": ["mac": "02:00:00:00:00:03"]]).mac == MACAddress("02:00:00:00:00:03"))
    }
}

/// The knobs through ADD and STATUS against fakes.
@Suite(.serialized) struct KnobsVerbTests {
    let system = FakeSystem()
    var plugin: MacvlanPlugin { MacvlanPlugin(system: system) }
    var eth0: LinkInfo? { system.container.links.first { $0.name == "eth0" } }

    func run(_ command: Command, _ builder: ConfigBuilder) -> Invocation { Invocation(plugin, command, builder) }

    @Test func linkKnobsReachTheKernelRequest() throws {
        #expect(run(.add, ConfigBuilder().with(["bclim": 0, "numTxQueues": 8, "numRxQueues": 4])).status == 0)
        let request = try #require(system.host.createRequests.first)
        #expect(request.broadcastCutoff == 0 && request.transmitQueues == 8 && request.receiveQueues == 4)
    }

    @Test func ipv6SysctlsAreWrittenBeforeTheLinkComesUp() throws {
        let l2 = ConfigBuilder().removing("ipam").with(["ipv6": ["acceptRA": false, "autoconf": false, "dad": "off"]])
        #expect(run(.add, l2).status == 0)
        #expect(system.host.createRequests.first?.up == false)  // created down: the sysctls come first
        #expect(system.sysctls.written.map(\.key) == [.ipv6(interface: "eth0", name: "accept_ra"), .ipv6(interface: "eth0", name: "autoconf"),
                                                       .ipv6(interface: "eth0", name: "accept_dad")])
        #expect(system.sysctls.written.map(\.value) == ["0", "0", "0"])
        #expect(eth0?.isUp == true)
    }

    @Test func ipv6SysctlsAreWrittenUnderTheTemporaryNameOnTheFallbackPath() throws {
        system.host.checksNameOnCreatingSide = true
        system.host.links.append(LinkInfo(index: 50, name: "eth0", kind: nil, flags: InterfaceFlags(rawValue: 0x1003), hardwareType: HardwareType.ether))
        let l2 = ConfigBuilder().removing("ipam").with(["ipv6": ["acceptRA": false, "autoconf": false, "dad": "off"]])
        #expect(run(.add, l2).status == 0)
        let temporary = MacvlanPlugin.temporaryName.make(containerID: "c1", ifName: "eth0")
        #expect(system.sysctls.written.map(\.key) == [.ipv6(interface: temporary, name: "accept_ra"), .ipv6(interface: temporary, name: "autoconf"),
                                                       .ipv6(interface: temporary, name: "accept_dad")])
        #expect(eth0?.isUp == true)
    }

    @Test func ipv6SysctlFailureRollsBack() {
        system.sysctls.failure = CNIError(.ioFailure, "no IPv6 here")
        let result = run(.add, ConfigBuilder().with(["ipv6": ["acceptRA": false]]))
        #expect(result.status != 0 && result.stdout.contains("no IPv6 here"))
        #expect(!system.container.links.contains { $0.kind?.macvlanDevice != nil })
        #expect(system.ipamPlugin?.calls == [])
    }

    func ipv6Result() {
        system.ipamPlugin?.result = CNIResult(ips: [CNIResult.IPConfig(address: IPPrefix("2001:db8::2/64")!, gateway: IPAddress("2001:db8::1"))],
                                              routes: [CNIResult.Route(destination: IPPrefix("::/0")!)])
        system.container.tentativeDumps = 1000  // DAD that would never finish within the wait
    }

    @Test(arguments: ["optimistic", "off"])
    func dadModesWithoutWaitDoNotWait(mode: String) throws {
        ipv6Result()
        let result = run(.add, ConfigBuilder().with(["ipv6": ["dad": .string(mode)]]))
        #expect(result.status == 0, "\(result.stdout)")
        #expect(system.container.calls.filter { $0 == "addresses" }.count == 1)  // read back once, no waiting
        let flags = try #require(system.container.addressList.first?.flags)
        #expect(flags.contains(.optimistic) == (mode == "optimistic"))
    }

    @Test func dadWaitStillWaits() {
        ipv6Result()
        system.container.tentativeDumps = 3
        #expect(run(.add, ConfigBuilder().with(["ipv6": ["dad": "wait"]])).status == 0)
        #expect(system.container.calls.filter { $0 == "addresses" }.count == 4)
        #expect(system.container.addressList.first.map { $0.flags.contains(.optimistic) } == false)
    }

    func addHostLinks() {
        system.host.links.append(LinkInfo(index: 9, name: "ens9", kind: nil, mac: MACAddress("02:00:00:00:00:09"), mtu: 9000, flags: InterfaceFlags(rawValue: 0x1003), hardwareType: HardwareType.ether))
        system.host.links.append(LinkInfo(index: 5, name: "ens5", kind: nil, mac: MACAddress("02:00:00:00:00:05"), mtu: 1500, flags: InterfaceFlags(rawValue: 0x1003), hardwareType: HardwareType.ether))
    }

    @Test func selectorChoosesTheMasterAndSaysSoWhenSeveralMatch() {
        addHostLinks()
        let result = run(.add, ConfigBuilder().removing("master").with(["masterSelector": ["pattern": "^ens"]]))
        #expect(result.status == 0)
        #expect(eth0?.parentIndex == 5)
        #expect(result.stderr.contains("matches ens5, ens9"), "\(result.stderr)")
        #expect(result.stderr.contains("using ens5, the lowest index"))
    }

    @Test func selectorByMacAndNames() {
        addHostLinks()
        #expect(run(.add, ConfigBuilder().removing("master").with(["masterSelector": ["mac": "02:00:00:00:00:09"]])).status == 0)
        #expect(eth0?.parentIndex == 9)
    }

    @Test func noMatchIsCode7AndStatus50() {
        let selector = ConfigBuilder().removing("master").with(["cniVersion": "1.1.0", "masterSelector": ["names": ["ens1f0", "eth1"]]])
        let add = run(.add, selector)
        #expect(add.status != 0 && add.stdout.contains("\"code\": 7"), "\(add.stdout)")
        #expect(add.stdout.contains("looked at: lo (not in names), eth0 (not in names)"))
        #expect(system.host.createRequests.isEmpty)
        let status = run(.status, selector)
        #expect(status.status != 0 && status.stdout.contains("\"code\": 50"), "\(status.stdout)")
    }

    @Test func deviceIDNamesTheMaster() {
        addHostLinks()
        #expect(run(.add, ConfigBuilder().removing("master").with(["deviceID": "ens9"])).status == 0)
        #expect(eth0?.parentIndex == 9)
    }

    @Test func masterFromPrevResult() {
        addHostLinks()
        let previous: JSONValue = ["cniVersion": "1.0.0", "interfaces": [["name": "ens9"], ["name": "veth0", "sandbox": "/var/run/netns/c1"]]]
        let result = run(.add, ConfigBuilder().removing("master").with(["masterFromPrevResult": true, "prevResult": previous]))
        #expect(result.status == 0, "\(result.stdout)")
        #expect(eth0?.parentIndex == 9)
        // STATUS has no prevResult: the master is made at ADD, nothing to look for.
        #expect(run(.status, ConfigBuilder().removing("master").with(["cniVersion": "1.1.0", "masterFromPrevResult": true])).status == 0)
    }

    @Test func macPrefixIsStableAcrossDelAndAdd() throws {
        let builder = ConfigBuilder().removing("ipam").with(["macPrefix": "0a:58"])
            .env("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web-0")
        #expect(run(.add, builder).status == 0)
        let first = try #require(eth0?.mac)
        #expect(run(.del, builder).status == 0)
        #expect(eth0 == nil)
        #expect(run(.add, builder.env("CNI_CONTAINERID", "c2")).status == 0)
        #expect(eth0?.mac == first)
        #expect(Array(first.bytes.prefix(2)) == [0x0a, 0x58])
    }
}
