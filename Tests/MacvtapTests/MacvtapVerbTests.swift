import CNI
import Glibc
import JSON
import LinkPlugin
@testable import Macvtap
import NetTypes
import Netlink
import TestSupport
import Testing

/// The macvtap verbs in-process against fakes. Serialized: the dispatcher's log sink is process-wide.
@Suite(.serialized) struct MacvtapVerbTests {
    let system = FakeSystem()
    let host: FakeTapHost
    var plugin: MacvtapPlugin { MacvtapPlugin(system: system, host: host) }
    let nodePath = "/dev/macvtap-cni/c1@eth0"
    let recordPath = "/state/net/c1@eth0"

    init() {
        host = FakeTapHost(watching: [system.container, system.host])
        host.liveNamespaces["/var/run/netns/c1"] = system.container
    }

    var eth0: LinkInfo? { system.container.links.first { $0.name == "eth0" } }

    @discardableResult
    func add(_ builder: ConfigBuilder = macvtapConfig()) throws -> JSONValue {
        let run = Invocation(plugin, .add, builder)
        #expect(run.status == 0, "\(run.stdout)")
        return try JSONValue.parse(Array(run.stdout.utf8))
    }

    func request(_ command: Command, _ builder: ConfigBuilder = macvtapConfig()) throws(CNIError) -> Request {
        try builder.request(command)
    }

    /// The config with the result of ADD as prevResult, for CHECK.
    func checked(_ result: JSONValue, _ builder: ConfigBuilder = macvtapConfig()) -> ConfigBuilder {
        builder.with(["prevResult": result])
    }

    func expectNothingLeft(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(host.nodes.isEmpty, "nodes left: \(host.nodes.keys)", sourceLocation: sourceLocation)
        #expect(host.files.isEmpty, "records left: \(host.files.keys)", sourceLocation: sourceLocation)
        #expect(!system.container.links.contains { $0.kind?.macvlanDevice == .macvtap }, sourceLocation: sourceLocation)
    }

    // MARK: ADD

    @Test func addCreatesAMacvtapAndItsNode() throws {
        let result = try add(macvtapConfig(["tap": ["owner": 107, "group": 36, "mode": "0660"], "mode": "vepa"]))
        let link = try #require(eth0)
        #expect(link.kind == .macvlanFamily(.macvtap, mode: .vepa))
        #expect(link.isUp)
        let node = try #require(host.nodes[nodePath])
        #expect(node == NodeStatus(isCharacterDevice: true, device: DeviceNumber(major: 246, minor: 1), owner: 107, group: 36, mode: 0o660))
        #expect(result["interfaces"]?.arrayValue?.first?["socketPath"] == .string(nodePath))
        let record = try #require(host.files[recordPath].flatMap(AttachmentRecord.init(decoding:)))
        #expect(record.device == node.device)
        #expect(record.adopted == nil)
        #expect(!system.container.links.contains { $0.name.hasPrefix("mttmp") })
    }

    /// The device number is looked up under the temporary name: another namespace's macvtap with the same
    /// name and ifindex as ours (eth0, same index) is not taken for ours.
    @Test func sameIfindexElsewhereIsNotOurs() throws {
        host.extraDevices = [("246:99", "../../devices/virtual/net/eth0/macvtap/tap101")]
        try add()
        #expect(eth0?.index == 101)
        #expect(host.nodes[nodePath]?.device == DeviceNumber(major: 246, minor: 1))
    }

    @Test func olderVersionsHaveNoSocketPath() throws {
        let result = try add(macvtapConfig(["cniVersion": "1.0.0"]))
        #expect(result["interfaces"]?.arrayValue?.first?["socketPath"] == nil)
        #expect(host.nodes[nodePath] != nil)
    }

    @Test func broadcastQueueLengthAtCreation() throws {
        try add(macvtapConfig(["bcqueuelen": 333]))
        #expect(eth0?.macvlanBroadcastQueueLength == 333)
    }

    @Test func promiscuous() throws {
        try add(macvtapConfig(["promisc": true]))
        #expect(eth0?.flags.contains(.promiscuous) == true)
    }

    @Test(arguments: ["characterDevices", "write", "makeNode"])
    func failuresOfTheNodeStepsRollBack(_ operation: String) throws {
        host.failures = [operation]
        let run = Invocation(plugin, .add, macvtapConfig())
        #expect(run.status != 0)
        host.failures = []
        expectNothingLeft()
    }

    @Test func ipamFailureRemovesTheNode() throws {
        system.ipamPlugin?.failures["ADD"] = CNIError(.ipamExecutionFailure, "no")
        let run = Invocation(plugin, .add, macvtapConfig(["ipam": ["type": "fake"]]))
        #expect(run.status != 0)
        expectNothingLeft()
        #expect(system.ipamPlugin?.calls == ["ADD", "DEL-rollback"])
    }

    @Test func unknownDeviceIsReported() throws {
        host.extraDevices = []
        let devices = FakeTapHost(watching: [])   // a sysfs that does not list our link
        let run = Invocation(MacvtapPlugin(system: system, host: devices), .add, macvtapConfig())
        #expect(run.status != 0)
        #expect(run.stdout.contains("/sys/dev/char"))
        #expect(!system.container.links.contains { $0.kind?.macvlanDevice == .macvtap })
    }

    // MARK: deviceID

    func addDevice(name: String = "kvtap0", mode: MacvlanMode = .bridge) {
        system.host.links.append(LinkInfo(index: 50, name: name, kind: .macvlanFamily(.macvtap, mode: mode), mac: MACAddress("02:00:00:00:00:50"),
                                          mtu: 1400, flags: InterfaceFlags(rawValue: 0x1002), hardwareType: HardwareType.ether, parentIndex: 2))
    }

    @Test func adoptsAndGivesBack() throws {
        addDevice()
        let config = macvtapConfig(["deviceID": "kvtap0", "mac": "02:00:00:00:00:aa", "mtu": 1300, "promisc": true])
        let result = try add(config)
        #expect(!system.host.links.contains { $0.name == "kvtap0" })
        let link = try #require(eth0)
        #expect(link.mac == MACAddress("02:00:00:00:00:aa"))
        #expect(link.mtu == 1300)
        #expect(link.flags.contains(.promiscuous))
        #expect(result["interfaces"]?.arrayValue?.first?["mac"] == "02:00:00:00:00:aa")
        #expect(host.nodes[nodePath] != nil)
        #expect(host.files[recordPath].flatMap(AttachmentRecord.init(decoding:))?.adopted?.name == "kvtap0")

        #expect(Invocation(plugin, .check, checked(result, config)).status == 0)
        #expect(Invocation(plugin, .del, config).status == 0)
        let back = try #require(system.host.links.first { $0.name == "kvtap0" })
        #expect(back.mac == MACAddress("02:00:00:00:00:50"))
        #expect(back.mtu == 1400)
        #expect(!back.flags.contains(.promiscuous))
        #expect(!system.container.links.contains { $0.kind?.macvlanDevice == .macvtap })
        #expect(host.nodes.isEmpty && host.files.isEmpty)
        #expect(Invocation(plugin, .del, config).status == 0)   // repeatable
        #expect(system.host.links.contains { $0.name == "kvtap0" })
    }

    @Test func failedAdoptionGivesBack() throws {
        addDevice()
        system.ipamPlugin?.failures["ADD"] = CNIError(.ipamExecutionFailure, "no")
        let run = Invocation(plugin, .add, macvtapConfig(["deviceID": "kvtap0", "ipam": ["type": "fake"]]))
        #expect(run.status != 0)
        #expect(system.host.links.contains { $0.name == "kvtap0" && $0.mtu == 1400 })
        expectNothingLeft()
    }

    @Test func adoptionRefusals() {
        addDevice(name: "kvtap1", mode: .vepa)
        system.host.links.append(LinkInfo(index: 60, name: "veth9", kind: .other("veth"), mtu: 1500, hardwareType: HardwareType.ether))
        for (deviceID, extra) in [("nosuch", JSONObject()), ("veth9", [:]), ("kvtap1", [:]), ("kvtap1", ["mode": "vepa", "master": "lo"])] {
            let run = Invocation(plugin, .add, macvtapConfig(["deviceID": .string(deviceID)]).with(extra))
            #expect(run.status != 0, "\(deviceID)")
            #expect(run.stdout.contains("\"code\": 7"), "\(deviceID): \(run.stdout)")
        }
        #expect(system.host.links.contains { $0.name == "kvtap1" })
        expectNothingLeft()
    }

    // MARK: DEL

    @Test func delRemovesEverythingAndIsRepeatable() throws {
        try add()
        #expect(Invocation(plugin, .del, macvtapConfig()).status == 0)
        expectNothingLeft()
        #expect(Invocation(plugin, .del, macvtapConfig()).status == 0)
    }

    @Test func delWithoutTheContainerStillRemovesTheNode() throws {
        try add()
        system.containerGone = true
        #expect(Invocation(plugin, .del, macvtapConfig()).status == 0)
        #expect(host.nodes.isEmpty && host.files.isEmpty)
    }

    @Test func delOfAnAttachmentADDWouldRefuse() {
        let config = macvtapConfig().env("CNI_CONTAINERID", String(repeating: "a", count: 252))
        #expect(Invocation(plugin, .del, config).status == 0)
    }

    @Test func gcSkipsADamagedRecord() throws {
        try add()
        host.files["/state/net/broken@eth0"] = Array("garbage".utf8)
        #expect(Invocation(plugin, .gc, macvtapConfig(["cni.dev/valid-attachments": []])).status == 0)
        #expect(host.nodes.isEmpty)
        #expect(host.files.keys.sorted() == ["/state/net/broken@eth0"])
    }

    @Test func delLeavesAnUnknownMacvtapWithoutRecordAlone() throws {
        try add()
        host.files[recordPath] = Array("damaged".utf8)
        let run = Invocation(plugin, .del, macvtapConfig())
        #expect(run.status != 0)
        #expect(eth0 != nil)          // it may be an adopted device: never destroyed on a guess
        #expect(host.nodes.isEmpty)
    }

    // MARK: CHECK

    @Test func checkFindsNodeDrift() throws {
        let result = try add(macvtapConfig(["tap": ["mode": "0660"]]))
        let config = checked(result, macvtapConfig(["tap": ["mode": "0660"]]))
        #expect(Invocation(plugin, .check, config).status == 0)
        host.nodes[nodePath]?.mode = 0o666
        #expect(Invocation(plugin, .check, config).stdout.contains("mode 0666"))
        host.nodes[nodePath]?.mode = 0o660
        host.nodes[nodePath]?.device = DeviceNumber(major: 246, minor: 99)
        #expect(Invocation(plugin, .check, config).stdout.contains("no device at all"))
        host.extraDevices = [("246:99", "../../devices/virtual/net/eth0/macvtap/tap\(eth0!.index)")]   // same name and index elsewhere
        #expect(Invocation(plugin, .check, config).stdout.contains("ADD made it for 246:1"))
        host.nodes[nodePath] = nil
        let run = Invocation(plugin, .check, config)
        #expect(run.status != 0)
        #expect(run.stdout.contains("is missing"))
    }

    @Test func checkFindsLinkDrift() throws {
        let result = try add()
        let index = try #require(system.container.links.firstIndex { $0.name == "eth0" })
        system.container.links[index].flags.insert(.promiscuous)
        #expect(Invocation(plugin, .check, checked(result)).stdout.contains("promiscuous"))
        system.container.links[index].flags.remove(.promiscuous)
        system.container.links[index].kind = .macvlanFamily(.macvtap, mode: .private)
        #expect(Invocation(plugin, .check, checked(result)).stdout.contains("private mode"))
    }

    // MARK: STATUS, GC

    @Test func statusNeedsTheMaster() {
        #expect(Invocation(plugin, .status, macvtapConfig()).status == 0)
        #expect(Invocation(plugin, .status, macvtapConfig(["master": "nosuch"])).stdout.contains("\"code\": 50"))
        system.host.defaultRoute = nil
        #expect(Invocation(plugin, .status, macvtapConfig().removing("master")).stdout.contains("\"code\": 50"))
        #expect(Invocation(plugin, .status, macvtapConfig(["deviceID": "kvtap0"]).removing("master")).status == 0)
    }

    @Test func gcCollectsOnlyAttachmentsMissingFromTheValidList() throws {
        try add()
        let other = macvtapConfig().env("CNI_CONTAINERID", "c2").env("CNI_IFNAME", "net1")
        try add(other)
        let valid: JSONValue = ["cni.dev/valid-attachments": [["containerID": "c2", "ifname": "net1"]]]
        #expect(Invocation(plugin, .gc, macvtapConfig(valid.objectValue!)).status == 0)
        #expect(host.nodes[nodePath] == nil && host.files[recordPath] == nil)
        #expect(host.nodes["/dev/macvtap-cni/c2@net1"] != nil && host.files["/state/net/c2@net1"] != nil)
        // No list: nothing is collected.
        #expect(Invocation(plugin, .gc, macvtapConfig()).status == 0)
        #expect(host.nodes["/dev/macvtap-cni/c2@net1"] != nil)
        // Another network's records are not this network's to collect.
        #expect(Invocation(plugin, .gc, macvtapConfig(["name": "other", "cni.dev/valid-attachments": []])).status == 0)
        #expect(host.nodes["/dev/macvtap-cni/c2@net1"] != nil)
    }

    @Test func gcGivesAdoptedDevicesBack() throws {
        addDevice()
        try add(macvtapConfig(["deviceID": "kvtap0"]))
        #expect(Invocation(plugin, .gc, macvtapConfig(["deviceID": "kvtap0", "cni.dev/valid-attachments": []])).status == 0)
        #expect(system.host.links.contains { $0.name == "kvtap0" })
        expectNothingLeft()
    }
}
