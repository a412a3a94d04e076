import Testing
import TestSupport
@testable import CNI
import JSON
import NetTypes

func env(_ pairs: [String: String]) -> [(String, String)] { pairs.map { ($0.key, $0.value) } }

let fullEnv = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "abc", "CNI_NETNS": "/var/run/netns/x", "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin"]


@Suite struct VersionTests {
    @Test func ordersAndParses() {
        #expect(SpecVersion("0.3.1")! < SpecVersion("0.4.0")!)
        #expect(SpecVersion("1.1.0") == .v1_1_0)
        #expect(SpecVersion("1.10.0")! > .v1_1_0)
        for bad in ["", "1", "1.0", "1.0.0.0", "v1.0.0", "1.0.x", "1..0", " 1.0.0", "1.0.0-rc1", "-1.0.0"] { #expect(SpecVersion(bad) == nil, "\(bad)") }
    }

    @Test func missingVersionMeans010() throws {
        let (_, v) = try NetworkConfig.version(of: Array(#"{"name":"n","type":"macvlan"}"#.utf8))
        #expect(v == .v0_1_0)
    }

    @Test(arguments: ["9.9.9", "0.0.1", "1.1", "latest"])
    func unsupportedIsCode1(_ v: String) {
        expectCode(.incompatibleVersion) { () throws(CNIError) in _ = try NetworkConfig.version(of: Array(#"{"cniVersion":"\#(v)"}"#.utf8)) }
    }

    @Test func wrongTypeVersionIsCode7() {
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try NetworkConfig.version(of: Array(#"{"cniVersion":1}"#.utf8)) }
    }

    @Test(arguments: ["", "{", "[]", "\"x\"", "{\"a\":1,\"a\":2}"])
    func undecodableIsCode6(_ text: String) {
        expectCode(.decodingFailure) { () throws(CNIError) in _ = try NetworkConfig.version(of: Array(text.utf8)) }
    }

    @Test(arguments: [(Command.check, SpecVersion.v0_3_1), (.status, .v1_0_0), (.gc, .v1_0_0)])
    func verbGates(_ command: Command, _ version: SpecVersion) {
        expectCode(.incompatibleVersion) { () throws(CNIError) in try Dispatcher.gate(command, version) }
    }

    @Test func gatesOpen() throws {
        try Dispatcher.gate(.check, .v0_4_0)
        try Dispatcher.gate(.status, .v1_1_0)
        try Dispatcher.gate(.add, .v0_1_0)
    }
}

@Suite struct EnvironmentTests {
    @Test func loadsAdd() throws {
        let e = try Environment.load(env(fullEnv), command: .add)
        #expect(e.containerID == "abc")
        #expect(e.path == ["/opt/cni/bin"])
    }

    @Test(arguments: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"])
    func addNeeds(_ variable: String) {
        var e = fullEnv
        e[variable] = nil
        expectCode(.invalidEnvironment) { () throws(CNIError) in _ = try Environment.load(env(e), command: .add) }
    }

    @Test func delAllowsEmptyNetns() throws {
        var e = fullEnv
        e["CNI_NETNS"] = ""
        _ = try Environment.load(env(e), command: .del)
    }

    @Test func statusAndGCNeedOnlyTheCommand() throws {
        _ = try Environment.load(env(["CNI_COMMAND": "STATUS"]), command: .status)
        _ = try Environment.load(env(["CNI_COMMAND": "GC", "CNI_CONTAINERID": "", "CNI_IFNAME": ""]), command: .gc)
    }

    @Test(arguments: [nil, "", "add", "DELETE", "VERSION2"])
    func badCommand(_ value: String?) {
        var e: [String: String] = [:]
        e["CNI_COMMAND"] = value
        expectCode(.invalidEnvironment) { () throws(CNIError) in _ = try Environment.command(from: env(e)) }
    }

    @Test(arguments: ["-abc", "_x", ".x", "a b", "a/b", "a:b", "é", "a\u{0}b", ""])
    func badContainerIDs(_ id: String) {
        var e = fullEnv
        e["CNI_CONTAINERID"] = id
        expectCode(.invalidEnvironment) { () throws(CNIError) in _ = try Environment.load(env(e), command: .add) }
    }

    @Test(arguments: ["a", "A1_b.c-d", "0abc", String(repeating: "f", count: 64)])
    func goodContainerIDs(_ id: String) { #expect(Environment.isValidIdentifier(id)) }

    @Test(arguments: ["", ".", "..", "a/b", "a:b", "a b", "tab\t", String(repeating: "x", count: 16), "ééééééééé", "ethé",
                      "\u{0435}th0", "a\u{A0}b", "a\u{7F}", "./\u{301}x", "a/\u{301}b"])
    func badInterfaceNames(_ name: String) {
        var e = fullEnv
        e["CNI_IFNAME"] = name
        expectCode(.invalidEnvironment) { () throws(CNIError) in _ = try Environment.load(env(e), command: .add) }
    }

    @Test(arguments: ["eth0", "net1", String(repeating: "x", count: 15), "a.b", "a-b_c"])
    func goodInterfaceNames(_ name: String) { #expect(Environment.interfaceNameProblem(name) == nil) }

    @Test func relativeAndEmptyPathEntriesDropped() throws {
        var e = fullEnv
        e["CNI_PATH"] = ":bin:/opt/cni/bin::./x:/usr/lib/cni"
        #expect(try Environment.load(env(e), command: .add).path == ["/opt/cni/bin", "/usr/lib/cni"])
    }
}

@Suite struct CNIArgsTests {
    @Test func parsesKnownKeys() throws {
        let a = try CNIArgs(parsing: "IgnoreUnknown=1;K8S_POD_NAME=web;MAC=0a:58:00:00:00:01;X=y=z")
        #expect(a["MAC"] == "0a:58:00:00:00:01")
        #expect(a["X"] == "y=z")
        #expect(try CNIArgs(parsing: "").pairs.isEmpty)
        #expect(try CNIArgs(parsing: "IP=10.0.0.2;").pairs.count == 1)
    }

    @Test(arguments: ["FOO=bar", "IgnoreUnknown=0;FOO=bar", "novalue", "=x", "IgnoreUnknown=maybe", "IP=1;;broken"])
    func rejects(_ text: String) {
        expectCode(.invalidEnvironment) { () throws(CNIError) in _ = try CNIArgs(parsing: text) }
    }

    @Test(arguments: ["IgnoreUnknown=1;FOO=bar", "IgnoreUnknown=true;FOO=bar", "FOO=bar;IgnoreUnknown=TRUE"])
    func ignoreUnknown(_ text: String) throws { _ = try CNIArgs(parsing: text) }
}

@Suite struct NetworkConfigTests {
    func parse(_ text: String) throws(CNIError) -> NetworkConfig {
        let bytes = Array(text.utf8)
        let (object, version) = try NetworkConfig.version(of: bytes)
        return try NetworkConfig(bytes: bytes, object: object, version: version)
    }

    @Test func l2OnlyWhenIPAMAbsentOrEmpty() throws {
        #expect(try parse(#"{"cniVersion":"1.0.0","name":"n","type":"macvlan"}"#).ipamType == nil)
        #expect(try parse(#"{"cniVersion":"1.0.0","name":"n","type":"macvlan","ipam":{}}"#).ipamType == nil)
        #expect(try parse(#"{"cniVersion":"1.0.0","name":"n","type":"macvlan","ipam":{"type":"host-local"}}"#).ipamType == "host-local")
    }

    @Test(arguments: [
        #"{"cniVersion":"1.0.0","type":"macvlan"}"#,
        #"{"cniVersion":"1.0.0","name":"-bad","type":"macvlan"}"#,
        #"{"cniVersion":"1.0.0","name":"a b","type":"macvlan"}"#,
        #"{"cniVersion":"1.0.0","name":7,"type":"macvlan"}"#,
        #"{"cniVersion":"1.0.0","name":"n","type":["macvlan"]}"#,
        #"{"cniVersion":"1.0.0","name":"n","ipam":"host-local"}"#,
        #"{"cniVersion":"1.0.0","name":"n","ipam":{"subnet":"10.0.0.0/24"}}"#,
        #"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"../host-local"}}"#,
        #"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"/usr/lib/cni/host-local"}}"#,
        #"{"cniVersion":"1.0.0","name":"n","ipam":{"type":".."}}"#,
        #"{"cniVersion":"1.0.0","name":"n","ipam":{"type":1}}"#,
        #"{"cniVersion":"1.0.0","name":"n","dns":{"nameservers":"1.1.1.1"}}"#,
        #"{"cniVersion":"1.0.0","name":"n","dns":[]}"#,
        #"{"cniVersion":"1.0.0","name":"n","runtimeConfig":"x"}"#,
        #"{"cniVersion":"1.0.0","name":"n","prevResult":[]}"#,
        #"{"cniVersion":"1.0.0","name":"n","capabilities":["mac"]}"#,
        #"{"cniVersion":"1.0.0","name":"n","args":"x"}"#,
    ])
    func invalidIsCode7(_ text: String) {
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try parse(text) }
    }

    @Test func wrongTypeMessageNamesKeyAndValue() {
        do throws(CNIError) { _ = try parse(#"{"cniVersion":"1.0.0","name":"n","ipam":{"type":42}}"#) } catch {
            #expect(error.message.contains("ipam.type"))
            #expect(error.message.contains("42"))
        }
    }

    /// Go's encoding/json (the reference) ignores case when it fills struct fields, at every level it decodes.
    @Test func keysMatchIgnoringCase() throws {
        let c = try parse(#"{"CNIVersion":"0.4.0","Name":"n","TYPE":"macvlan","IPAM":{"Type":"host-local"},"DNS":{"Nameservers":["10.0.0.53"],"Domain":"d"},"RuntimeConfig":{"mac":"02:00:00:00:00:01"}}"#)
        #expect(c.cniVersion == .v0_4_0)
        #expect(c.name == "n")
        #expect(c.type == "macvlan")
        #expect(c.ipamType == "host-local")
        #expect(c.dns.nameservers == ["10.0.0.53"])
        #expect(c.dns.domain == "d")
        #expect(try c.runtimeConfig?.string("MAC") == "02:00:00:00:00:01")
    }

    @Test func wrongTypeNamesTheKeyAsWritten() {
        do throws(CNIError) { _ = try parse(#"{"cniVersion":"1.0.0","name":"n","IPAM":{"TYPE":42}}"#); Issue.record("accepted") } catch {
            #expect(error.message.contains("IPAM.TYPE"))
        }
    }

    @Test func unknownKeysAccepted() throws {
        _ = try parse(#"{"cniVersion":"1.0.0","name":"n","type":"macvlan","somethingNew":{"x":1}}"#)
    }

    @Test func prevResultDecodedInConfigVersion() throws {
        let c = try parse(#"{"cniVersion":"0.4.0","name":"n","prevResult":{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.2/24"}]}}"#)
        #expect(try c.decodedPrevResult()?.ips.count == 1)
        let bad = try parse(#"{"cniVersion":"0.4.0","name":"n","prevResult":{"ips":[{"address":"x"}]}}"#)
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try bad.decodedPrevResult() }
    }
}

@Suite struct ErrorTests {
    @Test func errorJSONHasEveryField() {
        let json = CNIError(.invalidConfig, "bad mode", details: "use bridge").json(version: "0.4.0")
        #expect(json == ["cniVersion": "0.4.0", "code": 7, "msg": "bad mode", "details": "use bridge"])
    }

    @Test func ipamResultKeysMatchIgnoringCase() throws {
        let r = try CNIResult.decode(try JSONValue.parse(#"{"CNIVersion":"1.0.0","IPs":[{"Address":"10.0.0.2/24","Gateway":"10.0.0.1"}],"Routes":[{"Dst":"0.0.0.0/0","GW":"10.0.0.1"}]}"#), defaultVersion: .v1_0_0)
        #expect(r.ips.first?.address == IPPrefix("10.0.0.2/24"))
        #expect(r.ips.first?.gateway == IPAddress("10.0.0.1"))
        #expect(r.routes.first?.gateway == IPAddress("10.0.0.1"))
    }

    @Test(arguments: [(#"{"ips":[{"address":"10.0.0.2/33"}]}"#, "10.0.0.2/33"), (#"{"ips":[{"address":"2001:db8::2/200"}]}"#, "2001:db8::2/200"),
                      (#"{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/40"}}"#, "10.0.0.2/40")])
    func outOfRangePrefixIsAnUnusableAddress(_ text: String, _ address: String) throws {
        let value = try JSONValue.parse(text)
        do throws(ResultDecodeError) { _ = try CNIResult.decode(value, defaultVersion: .v1_0_0); Issue.record("accepted") } catch {
            #expect(error.unusableAddress == address)
            #expect(error.message.contains("prefix length"))
        }
    }

    @Test(arguments: [#"{"ips":[{"address":"10.0.0.2"}]}"#, #"{"ips":[{"address":"x/24"}]}"#, #"{"ips":[{}]}"#])
    func malformedAddressIsNotCalledUnusable(_ text: String) throws {
        let value = try JSONValue.parse(text)
        do throws(ResultDecodeError) { _ = try CNIResult.decode(value, defaultVersion: .v1_0_0); Issue.record("accepted") } catch {
            #expect(error.unusableAddress == nil)
        }
    }

    @Test func pluginErrorIsRecognised() {
        let e = DelegatedPlugin.pluginError(in: Array(#"{"cniVersion":"0.4.0","code":11,"msg":"busy"}"#.utf8))
        #expect(e?.code == .tryAgainLater)
        #expect(DelegatedPlugin.pluginError(in: Array("garbage".utf8)) == nil)
        #expect(DelegatedPlugin.pluginError(in: Array(#"{"code":0}"#.utf8)) == nil)
    }

    @Test(arguments: ["host-local", "dhcp", "static"])
    func bareNames(_ n: String) { #expect(NetworkConfig.isBareName(n)) }

    @Test(arguments: ["", ".", "..", "a/b", "/abs", "../x"])
    func notBareNames(_ n: String) { #expect(!NetworkConfig.isBareName(n)) }
}

/// Found by fuzzing: a separator followed by a combining mark is one grapheme to Swift's String, but a byte to
/// the kernel, to file paths and to Go. Every syntax check must see the byte.
@Suite struct ByteLevelSyntaxTests {
    @Test(arguments: ["../\u{301}evil", "a/\u{301}b", "/\u{301}", "x/\u{301}"])
    func slashWithCombiningMarkIsNotABareName(_ name: String) { #expect(!NetworkConfig.isBareName(name)) }

    @Test func separatorWithCombiningMarkStillSeparates() throws {
        expectCode(.invalidEnvironment) { () throws(CNIError) in _ = try CNIArgs(parsing: "K8S_POD_NAME=a;\u{301}FOO=1") }
        let args = try CNIArgs(parsing: "K8S_POD_NAME=\u{301}x")
        #expect(args["K8S_POD_NAME"] == "\u{301}x")
    }

    @Test func canonicalEquivalentsAreDifferentBytes() {
        // U+212A KELVIN SIGN is canonically equivalent to "K": equal as Swift Strings, different bytes.
        expectCode(.invalidEnvironment) { () throws(CNIError) in _ = try Environment.command(from: env(["CNI_COMMAND": "CHEC\u{212A}"])) }
        expectCode(.invalidEnvironment) { () throws(CNIError) in _ = try CNIArgs(parsing: "\u{212A}8S_POD_NAME=x") }
    }

    @Test func pathSplitOnBytes() throws {
        var e = fullEnv
        e["CNI_PATH"] = "/a:\u{301}/b:/c"
        #expect(try Environment.load(env(e), command: .add).path == ["/a", "/c"])
    }
}
