import CNI
import Foundation
import Glibc
import JSON
@testable import LinkPlugin
import NetTypes
import Netlink
import TestSupport
import Testing

func choice(_ overrides: JSONObject, command: Command = .add, removingMaster: Bool = true, linkInContainer: Bool = false) throws(CNIError) -> MasterChoice {
    var builder = ConfigBuilder()
    if removingMaster { builder = builder.removing("master") }
    return try MasterChoice(try builder.with(overrides).request(command), linkInContainer: linkInContainer)
}

func errorOf(_ body: () throws(CNIError) -> Void) -> CNIError? {
    do { try body() } catch { return error }
    return nil
}

/// How the config names the master: one of master, masterSelector, deviceID, masterFromPrevResult.
@Suite struct MasterChoiceTests {
    @Test func noneMeansTheDefaultRoute() throws {
        guard case .defaultRoute = try choice([:]).rule else { Issue.record("expected the default route"); return }
        guard case .defaultRoute = try choice(["master": ""]).rule else { Issue.record("\"\" is not given"); return }
    }

    @Test func masterByName() throws {
        guard case .name("eth1") = try choice(["master": "eth1"]).rule else { Issue.record("expected eth1"); return }
    }

    static let conflicts: [(JSONObject, [String])] = [
        (["master": "eth0", "masterSelector": ["names": ["eth1"]]], ["\"master\"", "\"masterSelector\""]),
        (["master": "eth0", "deviceID": "0000:3b:00.1"], ["\"master\"", "\"deviceID\""]),
        (["masterSelector": ["pattern": "^e"], "masterFromPrevResult": true], ["\"masterSelector\"", "\"masterFromPrevResult\""]),
        (["master": "eth0", "runtimeConfig": ["deviceID": "ens1"]], ["\"master\"", "\"runtimeConfig.deviceID\""]),
    ]

    @Test(arguments: conflicts)
    func twoWaysToNameTheMasterAreRefused(overrides: JSONObject, named: [String]) {
        let error = errorOf { () throws(CNIError) in _ = try choice(overrides) }
        #expect(error?.code == .invalidConfig)
        for key in named { #expect(error?.message.contains(key) == true, "\(String(describing: error))") }
    }

    @Test func deviceIDAsPCIAddressOrName() throws {
        let pci = try choice(["deviceID": "0000:3B:00.1"])
        guard case let .selector(selector) = pci.rule else { Issue.record("expected a selector"); return }
        #expect(selector.pciAddress == PCIAddress("0000:3b:00.1"))
        #expect(pci.origin.contains("0000:3b:00.1"))
        guard case .name("ens1f0") = try choice(["deviceID": "ens1f0"]).rule else { Issue.record("expected ens1f0"); return }
    }

    @Test func runtimeConfigDeviceIDWinsOverTheInjectedOne() throws {
        let c = try choice(["deviceID": "ens1f0", "runtimeConfig": ["deviceID": "ens2f0"]])
        guard case .name("ens2f0") = c.rule else { Issue.record("expected ens2f0"); return }
        #expect(c.origin.contains("runtimeConfig.deviceID"))
    }

    @Test(arguments: ["bad/name", "0000:3b:00.9x", "a b"])
    func badDeviceID(_ text: String) {
        let error = errorOf { () throws(CNIError) in _ = try choice(["deviceID": .string(text)]) }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message.contains("\"deviceID\" \"\(text)\"") == true)
    }

    @Test func pciLookupIsRefusedInTheContainer() {
        for overrides: JSONObject in [["deviceID": "0000:3b:00.1"], ["masterSelector": ["pciAddress": "0000:3b:00.1"]]] {
            let error = errorOf { () throws(CNIError) in _ = try choice(overrides, linkInContainer: true) }
            #expect(error?.code == .invalidConfig)
            #expect(error?.message.contains("linkInContainer") == true)
        }
        // A name is looked up where the master lives, the container included.
        #expect(errorOf { () throws(CNIError) in _ = try choice(["deviceID": "ens1"], linkInContainer: true) } == nil)
    }

    static let chained: JSONObject = ["cniVersion": "1.0.0", "interfaces": [["name": "br-host", "mac": "02:00:00:00:00:01"],
                                                                            ["name": "eth9", "sandbox": "/var/run/netns/c1"]]]

    @Test func masterFromPrevResultTakesTheFirstHostSideInterface() throws {
        let c = try choice(["masterFromPrevResult": true, "prevResult": .object(Self.chained)])
        guard case .name("br-host") = c.rule else { Issue.record("expected br-host, got \(c.rule)"); return }
    }

    @Test func masterFromPrevResultNeedsOne() {
        let missing = errorOf { () throws(CNIError) in _ = try choice(["masterFromPrevResult": true]) }
        #expect(missing?.code == .invalidConfig && missing?.message.contains("no prevResult") == true)
        let sandboxed: JSONObject = ["cniVersion": "1.0.0", "interfaces": [["name": "eth9", "sandbox": "/x"]]]
        let none = errorOf { () throws(CNIError) in _ = try choice(["masterFromPrevResult": true, "prevResult": .object(sandboxed)]) }
        #expect(none?.code == .invalidConfig && none?.details.contains("eth9") == true)
        let inContainer = errorOf { () throws(CNIError) in
            _ = try choice(["masterFromPrevResult": true, "prevResult": .object(Self.chained)], linkInContainer: true)
        }
        #expect(inContainer?.code == .invalidConfig)
    }

    @Test func statusCannotKnowAMasterMadeAtAdd() throws {
        let c = try choice(["masterFromPrevResult": true, "cniVersion": "1.1.0"], command: .status)
        #expect(c.isKnownOnlyAtAdd)
        #expect(try choice(["masterFromPrevResult": false, "master": "eth0"]).isKnownOnlyAtAdd == false)
    }
}

@Suite struct MasterSelectorConfigTests {
    static let bad: [(JSONObject, String)] = [
        (["masterSelector": "eth0"], "\"masterSelector\" must be an object"),
        (["masterSelector": [:]], "has no criteria"),
        (["masterSelector": ["nmes": ["eth0"]]], "\"masterSelector.nmes\" is not a master selection criterion"),
        (["masterSelector": ["names": "eth0"]], "\"masterSelector.names\" must be an array"),
        (["masterSelector": ["names": []]], "\"masterSelector.names\" is empty"),
        (["masterSelector": ["names": ["eth0", "a/b"]]], "entry \"a/b\""),
        (["masterSelector": ["pattern": "("]], "\"masterSelector.pattern\" \"(\" is not a regular expression"),
        (["masterSelector": ["pattern": ""]], "\"masterSelector.pattern\" is empty"),
        (["masterSelector": ["mac": "02:00:00:00:00"]], "\"masterSelector.mac\" \"02:00:00:00:00\" is not a MAC address"),
        (["masterSelector": ["permanentMac": 5]], "\"masterSelector.permanentMac\" must be a string"),
        (["masterSelector": ["pciAddress": "3b:00"]], "\"masterSelector.pciAddress\" \"3b:00\" is not a PCI address"),
        (["masterSelector": ["subnet": "10.0.0.0"]], "\"masterSelector.subnet\" \"10.0.0.0\" is not an IP prefix"),
    ]

    @Test(arguments: bad)
    func badSelectorsNameKeyAndValue(overrides: JSONObject, message: String) {
        let error = errorOf { () throws(CNIError) in _ = try choice(overrides) }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func keysIgnoreCaseAsGoDoes() throws {
        let c = try choice(["MasterSelector": ["Names": ["eth1"], "SUBNET": "10.1.2.3/16"]])
        guard case let .selector(s) = c.rule else { Issue.record("expected a selector"); return }
        #expect(s.names == ["eth1"])
        #expect(s.subnet == IPPrefix("10.1.0.0/16"))
        #expect(s.summary == "names [eth1], subnet 10.1.0.0/16")
    }
}

/// Matching against a namespace's links, independent of where they come from.
@Suite struct MasterSelectorMatchingTests {
    static let macA = MACAddress("02:00:00:00:00:0a")!
    static let permanent = MACAddress("52:54:00:12:34:56")!

    static var links: [LinkInfo] {
        var ens1 = LinkInfo(index: 5, name: "ens1", kind: nil, mac: MACAddress("02:00:00:00:00:0b"), flags: InterfaceFlags(rawValue: 0x1003), hardwareType: HardwareType.ether)
        ens1.permanentMac = permanent
        return [
            LinkInfo(index: 1, name: "lo", flags: InterfaceFlags(rawValue: 0x9), hardwareType: HardwareType.loopback),
            LinkInfo(index: 2, name: "eth0", kind: .other("veth"), mac: macA, flags: InterfaceFlags(rawValue: 0x1003), hardwareType: HardwareType.ether),
            ens1,
            LinkInfo(index: 3, name: "ens2", kind: nil, mac: MACAddress("02:00:00:00:00:0c"), flags: InterfaceFlags(rawValue: 0x1003), hardwareType: HardwareType.ether),
            // A passthru child shares its parent's MAC; it can never be a master.
            LinkInfo(index: 4, name: "mv0", kind: .macvlanFamily(.macvlan, mode: .passthru), mac: macA, flags: InterfaceFlags(rawValue: 0x1003), hardwareType: HardwareType.ether, parentIndex: 2),
        ]
    }
    static let addresses = [AddressInfo(index: 5, prefix: IPPrefix("10.1.2.3/24")!), AddressInfo(index: 3, prefix: IPPrefix("192.168.0.2/24")!)]

    func select(_ selector: JSONObject, pci: [String]? = nil) throws -> MasterSelector.Outcome {
        guard case let .selector(s) = try choice(["masterSelector": .object(selector)]).rule else { throw CNIError(.invalidConfig, "no selector") }
        return s.select(Self.links, addresses: Self.addresses, pciInterfaces: pci) { link in
            Attachment.unusableAsMaster(link, childKind: "macvlan").map { $0.message }
        }
    }

    func chosen(_ outcome: MasterSelector.Outcome) -> (String, [String])? {
        if case let .chosen(link, others) = outcome { return (link.name, others.map(\.name)) }
        return nil
    }

    @Test func patternWithSeveralMatchesTakesTheLowestIndex() throws {
        let outcome = try #require(chosen(try select(["pattern": "^ens[0-9]$"])))
        #expect(outcome.0 == "ens2" && outcome.1 == ["ens1"])
    }

    @Test func patternIsASearchLikeGo() throws {
        #expect(chosen(try select(["pattern": "s1"]))?.0 == "ens1")
    }

    @Test func namesAreAnOrderedPreference() throws {
        #expect(chosen(try select(["names": ["ens1", "ens2"]]))?.0 == "ens1")
        #expect(chosen(try select(["names": ["missing", "ens2", "ens1"]]))?.0 == "ens2")
        #expect(chosen(try select(["names": ["ens2", "ens1"]]))?.1 == ["ens1"])
    }

    @Test func macSkipsChildrenThatShareIt() throws {
        let outcome = try #require(chosen(try select(["mac": "02:00:00:00:00:0A"])))
        #expect(outcome.0 == "eth0" && outcome.1.isEmpty)
    }

    @Test func permanentMacSubnetAndPCI() throws {
        #expect(chosen(try select(["permanentMac": "52:54:00:12:34:56"]))?.0 == "ens1")
        #expect(chosen(try select(["subnet": "10.1.0.0/16"]))?.0 == "ens1")
        #expect(chosen(try select(["pciAddress": "0000:3b:00.1"], pci: ["ens2"]))?.0 == "ens2")
    }

    @Test func everyCriterionMustHold() throws {
        #expect(chosen(try select(["pattern": "^ens", "subnet": "192.168.0.0/16"]))?.0 == "ens2")
        guard case let .none(rejected) = try select(["pattern": "^eth", "subnet": "192.168.0.0/16"]) else {
            Issue.record("expected no match"); return
        }
        #expect(rejected.map(\.name) == ["lo", "eth0", "ens2", "mv0", "ens1"])
        #expect(rejected.first { $0.name == "eth0" }?.reason == "no address in 192.168.0.0/16")
        #expect(rejected.first { $0.name == "ens2" }?.reason == "name does not match pattern")
    }

    @Test func noPermanentAddressIsNamed() throws {
        guard case let .none(rejected) = try select(["permanentMac": "52:54:00:00:00:01"]) else { Issue.record("expected no match"); return }
        #expect(rejected.first { $0.name == "eth0" }?.reason == "permanent mac none")
    }
}

/// The lookup through the route operations of the master's namespace, with the messages a person sees.
@Suite(.serialized) struct MasterLookupTests {
    func host() -> FakeRoutes {
        let host = FakeRoutes.host()
        host.links += MasterSelectorMatchingTests.links.filter { $0.index > 2 }
        host.addressList = MasterSelectorMatchingTests.addresses
        return host
    }

    func find(_ selector: JSONObject, in routes: FakeRoutes, sysfs: String = "/nonexistent") throws(CNIError) -> LinkInfo {
        let c = try choice(["masterSelector": .object(selector)])
        return try Attachment.findMaster(c, socket: routes, whereText: "the plugin's namespace", childKind: "macvlan",
                                         pciDevices: PCINetworkDevices(root: sysfs))
    }

    @Test func selectorFindsTheMaster() throws {
        #expect(try find(["pattern": "^ens"], in: host()).name == "ens2")
        #expect(try find(["subnet": "10.1.2.0/24"], in: host()).name == "ens1")
    }

    @Test func onlySubnetDumpsAddresses() throws {
        let routes = host()
        _ = try find(["pattern": "^ens"], in: routes)
        #expect(routes.calls == ["allLinks"])
    }

    @Test func noMatchIsCode7ListingWhatWasLookedAt() {
        let error = errorOf { () throws(CNIError) in _ = try find(["pattern": "^wlan"], in: host()) }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message == "no interface in the plugin's namespace matches \"masterSelector\" (pattern \"^wlan\")")
        #expect(error?.details.contains("eth0 (name does not match pattern)") == true)
        #expect(error?.details.contains("lo (") == true)
    }

    @Test func netlinkFailureIsNamed() {
        let routes = host()
        routes.failures["allLinks"] = FakeRoutes.error(EIO)
        let error = errorOf { () throws(CNIError) in _ = try find(["pattern": "^ens"], in: routes) }
        #expect(error?.code == .linkFailure)
        #expect(error?.message.contains("listing the interfaces of the plugin's namespace") == true)
    }

    @Test func pciAddressThroughAFakeSysfs() throws {
        let root = try FakeSysfs()
        defer { root.remove() }
        try root.device("0000:3b:00.1", interfaces: ["ens1"])
        try root.device("0000:3b:00.2", interfaces: [])
        #expect(try find(["pciAddress": "0000:3b:00.1"], in: host(), sysfs: root.path).name == "ens1")
        let noNetdev = errorOf { () throws(CNIError) in _ = try find(["pciAddress": "0000:3b:00.2"], in: host(), sysfs: root.path) }
        #expect(noNetdev?.details.contains("ens1 (not under PCI 0000:3b:00.2)") == true)
        let absent = errorOf { () throws(CNIError) in _ = try find(["pciAddress": "0000:3b:00.3"], in: host(), sysfs: root.path) }
        #expect(absent?.code == .invalidConfig && absent?.message.contains("there is no PCI device 0000:3b:00.3") == true)
    }
}

@Suite struct PCINetworkDevicesTests {
    @Test func listsTheInterfacesUnderAFunction() throws {
        let root = try FakeSysfs()
        defer { root.remove() }
        try root.device("0000:af:00.0", interfaces: ["ens2f0np0", "ens2f0"])
        try root.device("0000:af:00.7", interfaces: nil)
        let devices = PCINetworkDevices(root: root.path)
        #expect(devices.interfaces(of: PCIAddress("0000:af:00.0")!) == .interfaces(["ens2f0", "ens2f0np0"]))
        #expect(devices.interfaces(of: PCIAddress("0000:af:00.7")!) == .interfaces([]))
        #expect(devices.interfaces(of: PCIAddress("0000:af:00.1")!) == .noSuchDevice)
    }
}

/// A sysfs-shaped tree in a temporary directory: bus/pci/devices/<address>/net/<interface>/.
struct FakeSysfs {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "knobs-sysfs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `interfaces` nil: the device has no net/ directory at all.
    func device(_ address: String, interfaces: [String]?) throws {
        let directory = "\(path)/bus/pci/devices/\(address)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in interfaces ?? [] {
            try FileManager.default.createDirectory(atPath: "\(directory)/net/\(name)", withIntermediateDirectories: true)
        }
        if interfaces == [] { try FileManager.default.createDirectory(atPath: "\(directory)/net", withIntermediateDirectories: true) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// `pattern` is POSIX ERE through glibc: Go's common forms work, Perl-only escapes are refused, not mis-read.
@Suite struct NamePatternTests {
    static let matching: [(String, String, Bool)] = [
        ("^(eth|ens)[0-9]+$", "ens12", true), ("^(eth|ens)[0-9]+$", "ens1f0", false), ("f[0-9]$", "ens1f0", true),
        ("^ens[[:digit:]]+f0$", "ens3f0", true), ("\\w+np0$", "ens2f0np0", true), ("^eth0$", "eth0.100", false),
        ("^bond[0-9]{1,2}$", "bond10", true), ("^bond[0-9]{1,2}$", "bond100", false), ("ETH", "eth0", false),
    ]

    @Test(arguments: matching)
    func matches(pattern: String, name: String, expected: Bool) throws {
        #expect(try NamePattern(pattern, key: "p").matches(name) == expected)
    }

    @Test(arguments: ["^ens\\d+$", "\\p{L}", "\\Aeth", "eth0\\z", "\\Qeth.0\\E"])
    func perlEscapesAreRefusedWithAHint(pattern: String) {
        do { _ = try NamePattern(pattern, key: "masterSelector.pattern"); Issue.record("accepted \(pattern)") } catch {
            #expect(error.code == .invalidConfig)
            #expect(error.message.contains("which POSIX regular expressions lack"), "\(error)")
            #expect(error.details.contains("[0-9]"))
        }
    }

    @Test(arguments: ["(", "a{2", "[z-a]", "(?i)eth", "*eth"])
    func invalidExpressionsNameTheReason(pattern: String) {
        do { _ = try NamePattern(pattern, key: "masterSelector.pattern"); Issue.record("accepted \(pattern)") } catch {
            #expect(error.code == .invalidConfig)
            #expect(error.message.contains("is not a regular expression"), "\(error)")
            #expect(!error.details.isEmpty)
        }
    }

    @Test func anEscapedBackslashIsNoEscape() throws {
        #expect(try NamePattern("a\\\\d", key: "p").matches("a\\d"))
    }
}
