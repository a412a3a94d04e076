import Foundation
import Testing
@testable import CNI
import JSON
import NetTypes

/// A dual-stack result using every field, so each version's encoding shows what it drops.
let sampleResult: CNIResult = {
    var iface = CNIResult.Interface(name: "eth0", mac: CNIResult.ResultMAC(text: "0a:58:0a:01:02:03"), mtu: 1400, sandbox: "/var/run/netns/c1")
    iface.socketPath = "/run/vhost.sock"
    var route = CNIResult.Route(destination: IPPrefix("0.0.0.0/0")!, gateway: IPAddress("10.1.2.1"))
    route.mtu = 1300; route.advmss = 1260; route.priority = 100; route.table = 100; route.scope = 0
    return CNIResult(
        interfaces: [iface],
        ips: [CNIResult.IPConfig(address: IPPrefix("10.1.2.3/24")!, gateway: IPAddress("10.1.2.1"), interface: 0),
              CNIResult.IPConfig(address: IPPrefix("2001:db8::3/64")!, gateway: IPAddress("2001:db8::1"), interface: 0)],
        routes: [route, CNIResult.Route(destination: IPPrefix("::/0")!)],
        dns: DNS(nameservers: ["10.1.2.1"], domain: "example.org", search: ["example.org"], options: ["ndots:2"]))
}()

func golden(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Golden"))
    return try String(contentsOf: url, encoding: .utf8)
}

@Suite struct ResultEncodingTests {
    @Test(arguments: SpecVersion.supported)
    func matchesGoldenFile(_ version: SpecVersion) throws {
        let encoded = try sampleResult.json(version: version).serialized() + "\n"
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] != nil {
            let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
            try encoded.write(to: dir.appendingPathComponent("result-\(version).json"), atomically: true, encoding: .utf8)
        }
        #expect(encoded == (try golden("result-\(version)")))
    }

    @Test(arguments: SpecVersion.supported)
    func decodesItsOwnEncoding(_ version: SpecVersion) throws {
        let decoded = try CNIResult.decode(try sampleResult.json(version: version), defaultVersion: version)
        let again = try decoded.json(version: version)
        #expect(again == (try sampleResult.json(version: version)))
    }

    @Test(arguments: [SpecVersion.v0_1_0, .v0_2_0])
    func legacyVersionsCannotExpressL2Only(_ version: SpecVersion) {
        let l2 = CNIResult(interfaces: [CNIResult.Interface(name: "eth0")])
        #expect(throws: CNIError.self) { try l2.json(version: version) }
        do { _ = try l2.json(version: version) } catch { #expect(error.code == .incompatibleVersion) }
    }

    @Test func l2OnlyFrom030() throws {
        let l2 = CNIResult(interfaces: [CNIResult.Interface(name: "eth0", mac: CNIResult.ResultMAC(text: "0a:58:0a:01:02:03"), sandbox: "/ns")])
        let json = try l2.json(version: .v0_3_0)
        #expect(json["ips"] == nil)
        #expect(json["interfaces"]?.arrayValue?.count == 1)
        #expect(json["dns"] == .object(JSONObject()))
    }

    @Test func ipVersionFieldOnlyBefore100() throws {
        #expect(try sampleResult.json(version: .v0_4_0)["ips"]?.arrayValue?.first?["version"] == "4")
        #expect(try sampleResult.json(version: .v1_0_0)["ips"]?.arrayValue?.first?["version"] == nil)
    }
}

@Suite struct ResultDecodingTests {
    @Test func decodesLegacyIPAMAnswer() throws {
        let v = try JSONValue.parse(#"{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.5/16","gateway":"10.0.0.1","routes":[{"dst":"0.0.0.0/0"}]},"dns":{"nameservers":["8.8.8.8"]}}"#)
        let r = try CNIResult.decode(v, defaultVersion: .v1_0_0)
        #expect(r.ips == [CNIResult.IPConfig(address: IPPrefix("10.0.0.5/16")!, gateway: IPAddress("10.0.0.1"))])
        #expect(r.routes.first?.destination == IPPrefix("0.0.0.0/0"))
        #expect(r.dns.nameservers == ["8.8.8.8"])
    }

    /// Interfaces of earlier plugins keep their MAC text as it was (upper case, InfiniBand's 20 bytes); only an
    /// Ethernet address is parsed.
    @Test func macTextSurvivesAChain() throws {
        let infiniBand = "80:00:02:08:FE:80:00:00:00:00:00:00:00:02:C9:03:00:00:0F:00"
        let text = #"{"cniVersion":"1.0.0","interfaces":[{"name":"ib0","mac":"\#(infiniBand)"},{"name":"eth0","mac":"0A:58:0A:01:02:03"}]}"#
        let r = try CNIResult.decode(try JSONValue.parse(text), defaultVersion: .v1_0_0)
        #expect(r.interfaces[0].mac == CNIResult.ResultMAC(text: infiniBand))
        #expect(r.interfaces[0].mac?.parsed == nil)
        #expect(r.interfaces[1].mac?.parsed == MACAddress("0a:58:0a:01:02:03"))
        let again = try r.json(version: .v1_0_0)["interfaces"]?.arrayValue?.map { $0["mac"]?.stringValue }
        #expect(again == [infiniBand, "0A:58:0A:01:02:03"])
    }

    @Test func ourMACIsItsCanonicalText() {
        let mac = CNIResult.ResultMAC(MACAddress(bytes: [0x0a, 0x58, 0, 0, 0, 0xff])!)
        #expect(mac == CNIResult.ResultMAC(text: "0a:58:00:00:00:ff"))
    }

    @Test func decodesAbbreviatedIPAMAnswer() throws {
        let v = try JSONValue.parse(#"{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.5/16"}]}"#)
        let r = try CNIResult.decode(v, defaultVersion: .v1_0_0)
        #expect(r.interfaces.isEmpty)
        #expect(r.ips.first?.interface == nil)
    }

    @Test(arguments: [
        #"[]"#,
        #"{"cniVersion":"x"}"#,
        #"{"ips":[{"address":"10.0.0.5"}]}"#,
        #"{"ips":[{"address":"10.0.0.5/24","interface":3}]}"#,
        #"{"ips":{}}"#,
        #"{"routes":[{"dst":"0.0.0.0/0","gw":"::1"}]}"#,
        #"{"routes":[{"dst":"nope"}]}"#,
        #"{"routes":[{"dst":"0.0.0.0/0","mtu":-1}]}"#,
        #"{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.1"}}"#,
        #"{"interfaces":[{"mac":"x"}]}"#,
        #"{"dns":{"nameservers":"8.8.8.8"}}"#,
    ])
    func rejectsMalformed(_ text: String) throws {
        let v = try JSONValue.parse(text)
        #expect(throws: ResultDecodeError.self) { try CNIResult.decode(v, defaultVersion: .v1_0_0) }
    }

    @Test func appendMovesInterfaceIndexes() {
        var prev = CNIResult(interfaces: [CNIResult.Interface(name: "br0"), CNIResult.Interface(name: "veth")],
                             ips: [CNIResult.IPConfig(address: IPPrefix("10.9.0.2/24")!, interface: 1)],
                             dns: DNS(nameservers: ["1.1.1.1"]))
        prev.append(sampleResult)
        #expect(prev.interfaces.map(\.name) == ["br0", "veth", "eth0"])
        #expect(prev.ips.map(\.interface) == [1, 2, 2])
        #expect(prev.dns.nameservers == ["1.1.1.1", "10.1.2.1"])
    }

    @Test func dnsMergeKeepsOrderAndDropsDuplicates() {
        let merged = DNS(nameservers: ["a", "b"], search: ["x"]).merged(with: DNS(nameservers: ["b", "c"], domain: "d", search: ["x", "y"]))
        #expect(merged == DNS(nameservers: ["a", "b", "c"], domain: "d", search: ["x", "y"]))
    }
}
