import Testing
import TestSupport
@testable import Macvlan
import LinkPlugin
import CNI
import JSON
import Netlink

/// One config builder with overrides, instead of copied JSON templates.
func request(_ overrides: JSONObject = JSONObject(), args: String = "", command: Command = .add, version: String = "1.0.0") throws(CNIError) -> Request {
    var object: JSONObject = ["cniVersion": .string(version), "name": "net", "type": "macvlan", "master": "eth0",
                              "ipam": ["type": "host-local", "subnet": "10.0.0.0/24"]]
    for (key, value) in overrides { object[key] = value }
    let bytes = Array(JSONValue.object(object).serialized(indent: 0).utf8)
    let (parsed, v) = try NetworkConfig.version(of: bytes)
    let environment = try Environment.load([("CNI_COMMAND", command.rawValue), ("CNI_CONTAINERID", "c1"), ("CNI_NETNS", "/x"),
                                            ("CNI_IFNAME", "eth0"), ("CNI_ARGS", args)], command: command,
                                           pluginArgKeys: MacvlanPlugin().argKeys)
    return Request(environment: environment, config: try NetworkConfig(bytes: bytes, object: parsed, version: v), log: .standardError(prefix: "test"))
}

func config(_ overrides: JSONObject = JSONObject(), args: String = "", version: String = "1.0.0") throws(CNIError) -> MacvlanConfig {
    try MacvlanConfig(try request(overrides, args: args, version: version))
}


@Suite struct MacvlanConfigTests {
    @Test func defaults() throws {
        let c = try config(["master": ""])
        guard case .defaultRoute = c.master.rule else { Issue.record("expected the default route"); return }
        #expect(c.mode == .bridge)
        #expect(c.requestedMTU == nil)
        #expect(c.mac == nil)
        #expect(!c.linkInContainer)
        #expect(c.broadcastQueueLength == nil)
    }

    @Test(arguments: MacvlanMode.allCases)
    func modes(_ mode: MacvlanMode) throws {
        #expect(try config(["mode": .string(mode.configName)]).mode == mode)
        #expect(MacvlanMode(configName: mode.configName) == mode)
    }

    @Test func kernelValuesMatchUAPI() {
        #expect(MacvlanMode.private.rawValue == 1)
        #expect(MacvlanMode.vepa.rawValue == 2)
        #expect(MacvlanMode.bridge.rawValue == 4)
        #expect(MacvlanMode.passthru.rawValue == 8)
        #expect(MacvlanMode.source.rawValue == 16)
    }

    @Test func badModeNamesTheValue() {
        do throws(CNIError) { _ = try config(["mode": "bridged"]); Issue.record("accepted") } catch {
            #expect(error.code == .invalidConfig)
            #expect(error.message.contains("bridged"))
        }
    }

    @Test(arguments: [JSONValue.string("1500"), JSONValue.double(1500.5), JSONValue.bool(true), JSONValue.array([])])
    func mtuOfWrongType(_ mtu: JSONValue) { expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(["mtu": mtu]) } }

    @Test func mtuZeroInherits() throws {
        #expect(try config(["mtu": 0]).mtu(forMaster: "eth0", masterMTU: 1500) == nil)
        #expect(try config([:]).mtu(forMaster: "eth0", masterMTU: 1500) == nil)
    }

    @Test(arguments: [Int64(-1), 1, 67, 1501, 9000, 65536, 2_147_483_648, 4_294_968_696])
    func mtuOutOfRangeNamesBothNumbers(_ mtu: Int64) throws {
        let c = try config(["mtu": .int(mtu)])
        do throws(CNIError) { _ = try c.mtu(forMaster: "eth0", masterMTU: 1500); Issue.record("accepted \(mtu)") } catch {
            #expect(error.code == .invalidConfig)
            #expect(error.message.contains("\(mtu)") && error.message.contains("1500"))
        }
    }

    @Test(arguments: [Int64(68), 1400, 1500])
    func mtuInRange(_ mtu: Int64) throws {
        #expect(try config(["mtu": .int(mtu)]).mtu(forMaster: "eth0", masterMTU: 1500) == UInt32(mtu))
    }

    @Test func macPrecedence() throws {
        #expect(try config(["mac": "02:00:00:00:00:01"]).mac?.description == "02:00:00:00:00:01")
        #expect(try config(["mac": "02:00:00:00:00:01"], args: "MAC=02:00:00:00:00:02").mac?.description == "02:00:00:00:00:02")
        #expect(try config(["mac": "02:00:00:00:00:01", "runtimeConfig": ["mac": "02:00:00:00:00:03"]],
                           args: "MAC=02:00:00:00:00:02").mac?.description == "02:00:00:00:00:03")
    }

    @Test(arguments: ["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "zz", "02:00:00:00:00"])
    func badMACs(_ mac: String) {
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(["mac": .string(mac)]) }
        expectCode(.invalidEnvironment) { () throws(CNIError) in _ = try config(args: "MAC=\(mac)") }
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(["runtimeConfig": ["mac": .string(mac)]]) }
    }

    @Test(arguments: ["master", "mode", "mac"])
    func stringKeysWithWrongType(_ key: String) {
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config([key: 5]) }
    }

    @Test func otherTypedKeys() {
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(["linkInContainer": "yes"]) }
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(["bcqueuelen": -1]) }
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(["bcqueuelen": "100"]) }
    }

    @Test(arguments: ["lo/x", "..", "a b", "0123456789abcdef"])
    func badMasterNames(_ name: String) {
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(["master": .string(name)]) }
    }

    @Test(arguments: ["0.1.0", "0.2.0"])
    func l2OnlyRefusedInLegacyVersions(_ version: String) {
        expectCode(.incompatibleVersion) { () throws(CNIError) in _ = try config(["ipam": [:]], version: version) }
    }

    @Test func l2OnlyFineFrom030() throws { _ = try config(["ipam": [:]], version: "0.3.0") }
}


/// Configs written for the reference (Go encoding/json: keys ignore case) mean the same here.
@Suite struct ConfigKeyCaseTests {
    @Test func macvlanKeysIgnoreCase() throws {
        let c = try config(["master": .null, "Master": "eth1", "Mode": "private", "MTU": 1400, "LinkInContainer": true,
                            "BCQueueLen": 100, "RuntimeConfig": ["MAC": "02:00:00:00:00:07"]])
        guard case .name("eth1") = c.master.rule else { Issue.record("expected eth1"); return }
        #expect(c.mode == .private)
        #expect(c.requestedMTU == 1400)
        #expect(c.linkInContainer)
        #expect(c.broadcastQueueLength == 100)
        #expect(c.mac?.description == "02:00:00:00:00:07")
    }
}
