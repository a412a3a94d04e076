import CNI
import JSON
import LinkPlugin
@testable import Macvtap
import TestSupport
import Testing

@Suite struct MacvtapConfigTests {
    func config(_ builder: ConfigBuilder, _ command: Command = .add) throws(CNIError) -> MacvtapConfig {
        try MacvtapConfig(builder.request(command))
    }

    @Test func defaults() throws {
        let c = try config(ConfigBuilder().with(["type": "macvtap"]))
        #expect(c.mode == .bridge)
        #expect(c.permissions == NodePermissions(owner: 0, group: 0, mode: 0o600))
        #expect(c.stateDirectory == "/run/cni/macvtap")
        #expect(c.deviceID == nil)
        #expect(!c.promiscuous)
    }

    @Test func tapPermissions() throws {
        let c = try config(macvtapConfig(["tap": ["owner": 107, "group": 36, "mode": "0660"]]))
        #expect(c.permissions == NodePermissions(owner: 107, group: 36, mode: 0o660))
        #expect(c.permissions.modeText == "0660")
        #expect(try config(macvtapConfig(["tap": ["mode": "640"]])).permissions.mode == 0o640)
    }

    @Test(arguments: ["0888", "01777", "", "rw", "00000", "-1"])
    func badModes(_ mode: String) {
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["tap": ["mode": .string(mode)]])) }
    }

    @Test func badOwnersAndTypes() {
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["tap": ["owner": -1]])) }
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["tap": ["group": 4294967295]])) }
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["tap": ["mode": 660]])) }
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["tap": "0660"])) }
    }

    @Test func deviceID() throws {
        #expect(try config(macvtapConfig(["deviceID": "kvtap0"])).deviceID == "kvtap0")
        #expect(try config(macvtapConfig(["deviceID": "kvtap0", "runtimeConfig": ["deviceID": "kvtap1"]])).deviceID == "kvtap1")
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["deviceID": "a/b"])) }
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["deviceID": "kvtap0", "linkInContainer": true])) }
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["deviceID": "kvtap0", "bcqueuelen": 10])) }
    }

    @Test func stateDirectory() throws {
        #expect(try config(macvtapConfig(["stateDir": "/var/lib/x"])).stateDirectory == "/var/lib/x")
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["stateDir": "relative"])) }
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try config(macvtapConfig(["stateDir": "/a/../etc"])) }
    }

    @Test func sharedKeysNameMacvtap() {
        let error = thrownError { () throws(CNIError) in _ = try config(macvtapConfig(["mode": "bogus"])) }
        #expect(error?.message.contains("macvtap mode") == true)
    }
}

@Suite struct TapNodeTests {
    @Test func deviceNumbers() {
        #expect(DeviceNumber("246:1") == DeviceNumber(major: 246, minor: 1))
        #expect(DeviceNumber("246:1")?.rawValue == 0xf601)           // makedev(246, 1)
        for number in [DeviceNumber(major: 246, minor: 1), DeviceNumber(major: 4095, minor: 1_048_575), DeviceNumber(major: 1, minor: 256)] {
            #expect(DeviceNumber(rawValue: number.rawValue) == number)
        }
        #expect(DeviceNumber("246") == nil)
        #expect(DeviceNumber("a:1") == nil)
        #expect(DeviceNumber("246:1:2") == nil)
        #expect(DeviceNumber("5000:1") == nil)
    }

    @Test func pathIsDerivedFromTheAttachmentOnly() {
        #expect(TapNode.path(containerID: "abc", ifName: "eth0") == "/dev/macvtap-cni/abc@eth0")
        expectCode(.invalidEnvironment) { () throws(CNIError) in
            try TapNode.validate(containerID: String(repeating: "a", count: 251), ifName: "eth0")
        }
    }

    /// Two namespaces' macvtaps with the same ifindex: the unique temporary name tells them apart.
    @Test func findsTheLinkByItsUniqueName() throws {
        let entries = [("246:1", "../../devices/virtual/net/eth0/macvtap/tap2"),
                       ("246:2", "../../devices/virtual/net/mttmp0123456789/macvtap/tap2"),
                       ("10:200", "../../devices/virtual/misc/tun")]
        #expect(try TapNode.find(linkName: "mttmp0123456789", index: 2, in: entries) == DeviceNumber(major: 246, minor: 2))
        #expect(try TapNode.find(linkName: "mttmp0123456789", index: 3, in: entries) == nil)
        #expect(try TapNode.find(linkName: "tmp0123456789", index: 2, in: entries) == nil)  // a suffix of the name is not the name
        expectCode(.linkFailure) { () throws(CNIError) in
            _ = try TapNode.find(linkName: "eth0", index: 2, in: entries + [("246:3", "../../devices/virtual/net/eth0/macvtap/tap2")])
        }
    }

    @Test func recordsRoundTrip() {
        var record = AttachmentRecord(containerID: "c1", ifName: "eth0", netns: "/run/netns/odd%name\nx", node: "/dev/macvtap-cni/c1@eth0")
        record.device = DeviceNumber(major: 246, minor: 7)
        #expect(AttachmentRecord(decoding: record.encoded) == record)
        record.adopted = .init(name: "kvtap0", mac: nil, mtu: 1400, promiscuous: true, up: false)
        #expect(AttachmentRecord(decoding: record.encoded) == record)
        #expect(AttachmentRecord(decoding: Array("containerID=c1\n".utf8)) == nil)
        #expect(AttachmentRecord(decoding: Array("garbage".utf8)) == nil)
        #expect(AttachmentRecord(decoding: Array("containerID=c1\nifName=e\nnetns=n\nnode=x\ndevice=zz\n".utf8)) == nil)
        #expect(AttachmentRecord(decoding: Array("containerID=c%2\nifName=e\nnetns=n\nnode=x\n".utf8)) == nil)
    }
}
