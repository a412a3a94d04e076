import CNI
@testable import DHCPService
@testable import DHCPDaemon
import DHCPv4
import DHCPv6
import Foundation
import JSON
import NetTypes
import Testing

func sampleRecord(boundAt: Double = 1_700_000_000.5) -> LeaseRecord {
    let lease = DHCPv4Lease(address: IPPrefix("10.0.0.150/24")!, serverIdentifier: IPAddress("10.0.0.1")!,
                            router: IPAddress("10.0.0.1"), routes: [(IPPrefix("0.0.0.0/0")!, IPAddress("10.0.0.1")),
                                                                    (IPPrefix("192.168.5.0/24")!, nil)],
                            dnsServers: [IPAddress("10.0.0.53")!], domainName: "example.test",
                            leaseSeconds: 120, renewalSeconds: 10, rebindingSeconds: 20)
    let attachment = Attachment(containerID: "abc", network: "net1", ifName: "eth0", netns: "/var/run/netns/x",
                                netnsDevice: 4, netnsInode: 4_026_532_000, linkIndex: 7, mac: MACAddress("02:00:00:00:00:07")!,
                                requestedOptions: [1, 3], providedOptions: [DHCPv4Option(code: 12, value: Array("web".utf8))],
                                priority: 100)
    return LeaseRecord(attachment: attachment, binding: .init(lease: lease, boundAt: boundAt), lifetimeApplied: true)
}

@Suite struct LeaseRecordTests {
    @Test func roundTripsThroughJSON() throws {
        let record = sampleRecord()
        let text = record.json.serialized()
        #expect(try LeaseRecord(json: try JSONValue.parse(text)) == record)
    }

    @Test func roundTripsWithDHCPv6() throws {
        var record = sampleRecord()
        record.attachment.dhcpv6PrefixLength = 64
        record.v6 = DHCPv6.Lease(serverID: [0, 1, 2, 3], serverUnicast: nil, address: IPAddress("fd00::154")!, preferredLifetime: 90,
                                 validLifetime: 120, t1: 60, t2: 105, obtainedAt: 1_700_000_000_500,
                                 dnsServers: [IPAddress("fd00::53")!], domainList: ["example.test"])
        record.v6LifetimeApplied = true
        #expect(try LeaseRecord(json: try JSONValue.parse(record.json.serialized())) == record)
        let result = record.result()
        #expect(result.ips.map(\.address) == [IPPrefix("10.0.0.150/24")!, IPPrefix("fd00::154/64")!])
        #expect(result.dns.nameservers == ["10.0.0.53", "fd00::53"] && result.dns.search == ["example.test"])
    }

    @Test func rejectsIncompleteRecords() throws {
        var o = try #require(sampleRecord().json.objectValue)
        o["v4"] = nil
        #expect(throws: LeaseRecord.DecodeError.self) { try LeaseRecord(json: .object(o)) }
    }

    @Test func resultCarriesAddressRoutesPriorityAndDNS() throws {
        let result = sampleRecord().result()
        #expect(result.ips == [CNIResult.IPConfig(address: IPPrefix("10.0.0.150/24")!, gateway: IPAddress("10.0.0.1"))])
        #expect(result.routes.map(\.priority) == [100, 100])
        #expect(result.routes[1].gateway == nil)
        #expect(result.dns.nameservers == ["10.0.0.53"] && result.dns.domain == "example.test")
    }
}

@Suite struct LeaseStoreTests {
    func temporaryDirectory() -> String {
        let dir = NSTemporaryDirectory() + "dhcp-store-\(UUID().uuidString)/nested"
        return dir
    }

    @Test func savesLoadsAndRemovesAtomically() throws {
        let store = LeaseStore(directory: temporaryDirectory())
        try store.createDirectory()
        let record = sampleRecord()
        try store.save(record)
        #expect(try store.load(clientID: record.clientIdentifier) == record)
        var updated = record
        updated.lifetimeApplied = false
        try store.save(updated)
        let all = try store.loadAll()
        #expect(all.records == [updated] && all.problems.isEmpty)
        let files = try FileManager.default.contentsOfDirectory(atPath: store.directory)
        #expect(files.count == 1 && !files[0].hasSuffix(".tmp"))   // no temporary left behind
        let mode = try FileManager.default.attributesOfItem(atPath: store.directory + "/" + files[0])[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try store.remove(clientID: record.clientIdentifier)
        try store.remove(clientID: record.clientIdentifier)   // removing twice is fine
        #expect(try store.loadAll().records.isEmpty)
        try FileManager.default.removeItem(atPath: (store.directory as NSString).deletingLastPathComponent)
    }

    @Test func reportsUnreadableRecordsAndKeepsGoing() throws {
        let store = LeaseStore(directory: temporaryDirectory())
        try store.createDirectory()
        try store.save(sampleRecord())
        try "{not json".write(toFile: store.directory + "/lease-broken.json", atomically: true, encoding: .utf8)
        let all = try store.loadAll()
        #expect(all.records.count == 1 && all.problems.count == 1)
        #expect(all.problems[0].contains("lease-broken.json"))
        try FileManager.default.removeItem(atPath: (store.directory as NSString).deletingLastPathComponent)
    }

    @Test func distinctAttachmentsGetDistinctFiles() {
        let store = LeaseStore(directory: "/x")
        let a = store.path(forClientID: ClientIdentifier.option(containerID: "a", network: "n", ifName: "eth0"))
        let b = store.path(forClientID: ClientIdentifier.option(containerID: "a", network: "n", ifName: "eth1"))
        #expect(a != b && a.hasPrefix("/x/lease-") && a.hasSuffix(".json"))
    }
}

@Suite struct ConfigTests {
    func config(_ ipam: String) throws -> DHCPConfig {
        let object = try #require(try JSONValue.parse(#"{"cniVersion":"1.0.0","name":"n","type":"macvlan","ipam":"# + ipam + "}").objectValue)
        return try DHCPConfig(network: object)
    }

    @Test func defaults() throws {
        let c = try config(#"{"type":"dhcp"}"#)
        #expect(c.socketPath == "/run/cni/dhcp.sock" && c.stateDirectory == "/var/lib/cni/dhcp")
        #expect(c.requestedOptions == OptionNames.defaultRequested && c.timeout == nil && !c.dhcpv6Enabled)
    }

    @Test func referenceKeys() throws {
        let c = try config(#"""
            {"type":"dhcp","daemonSocketPath":"/tmp/d.sock","priority":50,
             "request":[{"option":"121"},{"option":"host-name"},{"skipDefault":true}],
             "provide":[{"option":"host-name","fromArg":"K8S_POD_NAME"},{"option":"60","value":"cni"}]}
            """#)
        #expect(c.socketPath == "/tmp/d.sock" && c.priority == 50)
        #expect(c.requestedOptions == [121, 12])
        let provided = try c.resolvedProvidedOptions(args: try CNIArgs(parsing: "K8S_POD_NAME=web-1"))
        #expect(provided == [DHCPv4Option(code: 12, value: Array("web-1".utf8)), DHCPv4Option(code: 60, value: Array("cni".utf8))])
    }

    @Test func ours() throws {
        let c = try config(#"{"type":"dhcp","timeout":"1m30s","stateDir":"/s","dhcpv6":{"enabled":true,"prefixLength":80}}"#)
        #expect(c.timeout == 90 && c.stateDirectory == "/s" && c.dhcpv6Enabled && c.dhcpv6PrefixLength == 80)
        #expect(try config(#"{"type":"dhcp","timeout":5}"#).timeout == 5)
    }

    @Test(arguments: [#"{"daemonSocketPath":"rel.sock"}"#, #"{"request":[{"option":"nope"}]}"#, #"{"provide":[{"value":"x"}]}"#,
                      #"{"timeout":"soon"}"#, #"{"timeout":-1}"#, #"{"dhcpv6":{"prefixLength":129}}"#, #"{"priority":"high"}"#])
    func rejects(_ ipam: String) {
        #expect(throws: CNIError.self) { try config(ipam) }
    }

    @Test func goDurations() {
        #expect(GoDuration.seconds("10s") == 10)
        #expect(GoDuration.seconds("1m30s") == 90)
        #expect(GoDuration.seconds("1h") == 3600)
        #expect(GoDuration.seconds("250ms") == 0.25)
        #expect(GoDuration.seconds("10") == nil)
        #expect(GoDuration.seconds("") == nil)
    }
}

@Suite struct DaemonOptionsTests {
    @Test func referenceFlags() throws {
        let o = try DaemonOptions(arguments: ["-socketpath", "/tmp/s.sock", "-pidfile=/run/d.pid", "--hostprefix", "/host",
                                              "-timeout", "30s", "-resendmax=1m", "-broadcast", "-statedir", "/var/lib/x"])
        #expect(o.socketPath == "/tmp/s.sock" && o.pidfile == "/run/d.pid" && o.hostPrefix == "/host")
        #expect(o.timeout == 30 && o.resendMax == 60 && o.broadcast && o.stateDirectory == "/var/lib/x")
        #expect(o.effectiveSocketPath == "/host/tmp/s.sock")
        #expect(try DaemonOptions(arguments: []).socketPath == "/run/cni/dhcp.sock")
    }

    @Test(arguments: [["-nope"], ["-timeout", "ten"], ["-pidfile", "rel.pid"], ["-socketpath"], ["stray"], ["-broadcast=maybe"]])
    func rejects(_ arguments: [String]) {
        #expect(throws: DaemonOptions.UsageError.self) { try DaemonOptions(arguments: arguments) }
    }
}

@Suite struct ControlProtocolTests {
    @Test func requestRoundTrip() throws {
        let config = try #require(try JSONValue.parse(#"{"name":"n","ipam":{"type":"dhcp"}}"#).objectValue)
        let r = ControlRequest(command: .gc, containerID: "", netns: "", ifName: "", provided: [DHCPv4Option(code: 12, value: [0x41, 0])], config: config,
                               validAttachments: [("c1", "eth0")])
        #expect(try ControlRequest(json: try JSONValue.parse(r.json.serialized())) == r)
    }

    @Test func replyRoundTrip() throws {
        for reply in [ControlReply.ok, .result(["ips": []]), .failure(CNIError(.tryAgainLater, "no server", details: "d"))] {
            #expect(try ControlReply(json: try JSONValue.parse(reply.json.serialized())) == reply)
        }
        #expect(throws: CNIError.self) { try ControlReply(json: ["what": 1]) }
    }
}
