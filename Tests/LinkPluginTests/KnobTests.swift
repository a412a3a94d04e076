import CNI
import JSON
@testable import LinkPlugin
import NetTypes
import Namespace
import TestSupport
import Testing

@Suite struct MACPrefixTests {
    func prefix(_ text: JSONValue) throws(CNIError) -> MACPrefix? {
        try MACPrefix(reading: try ConfigBuilder().with(["macPrefix": text]).request(.add).config.reader)
    }

    func environment(_ containerID: String = "c1", ifName: String = "eth0", args: String = "") throws(CNIError) -> Environment {
        try ConfigBuilder().env("CNI_CONTAINERID", containerID).env("CNI_IFNAME", ifName).env("CNI_ARGS", args)
            .request(.add, argKeys: []).environment
    }

    @Test(arguments: [("02", 1), ("0a:58", 2), ("02:42:AC:11:00", 5)])
    func accepted(text: String, count: Int) throws {
        #expect(try prefix(.string(text))?.bytes.count == count)
    }

    @Test func absentOrEmptyIsNoPrefix() throws {
        #expect(try prefix(.null) == nil)
        #expect(try prefix("") == nil)
    }

    @Test(arguments: [
        ("02:42:ac:11:00:02", "has 6 bytes"), ("0g", "is not a MAC prefix"), ("2:42", "is not a MAC prefix"), ("02::42", "is not a MAC prefix"),
        ("03:00", "is a multicast prefix"), ("00:16:3e", "is not locally administered"), ("fc", "is not locally administered"),
    ])
    func refused(text: String, message: String) {
        do { _ = try prefix(.string(text)); Issue.record("accepted \(text)") } catch {
            #expect(error.code == .invalidConfig)
            #expect(error.message.contains("\"macPrefix\" \"\(text)\" \(message)"), "\(error)")
        }
    }

    @Test func wrongTypeNamesTheKey() {
        do { _ = try prefix(2); Issue.record("accepted a number") } catch { #expect(error.message.contains("\"macPrefix\" must be a string")) }
    }

    @Test func samePodSameMACAcrossSandboxes() throws {
        let p = try #require(try prefix("02:42:0a"))
        let pod = "IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=db-0"
        let first = p.mac(for: try environment("sandbox-1", args: pod))
        #expect(first == p.mac(for: try environment("sandbox-2", args: pod)))
        #expect(Array(first.bytes.prefix(3)) == [0x02, 0x42, 0x0a])
        // Pinned: a MAC a DHCP server reserved must not change with a plugin upgrade (the harness pins it too).
        let pinned = try #require(try prefix("0a:58")).mac(for: try environment("any", args: "K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0"))
        #expect(pinned == MACAddress("0a:58:37:9c:77:13"))
        #expect(first.isAssignable)
        #expect(first != p.mac(for: try environment("sandbox-1", args: "K8S_POD_NAMESPACE=prod;K8S_POD_NAME=db-1")))
        #expect(first != p.mac(for: try environment("sandbox-1", args: "K8S_POD_NAMESPACE=test;K8S_POD_NAME=db-0")))
        #expect(first != p.mac(for: try environment("sandbox-1", ifName: "net1", args: pod)))
    }

    @Test func withoutPodNamesTheContainerIDIsTheIdentity() throws {
        let p = try #require(try prefix("06"))
        #expect(p.mac(for: try environment("abc")) == p.mac(for: try environment("abc")))
        #expect(p.mac(for: try environment("abc")) != p.mac(for: try environment("abd")))
        let spread = Set((0..<2000).map { i in p.mac(for: try! environment("c\(i)")) })
        #expect(spread.count == 2000)
    }
}

@Suite struct IPv6SettingsTests {
    func settings(_ value: JSONValue) throws(CNIError) -> IPv6Settings? {
        try IPv6Settings(reading: try ConfigBuilder().with(["ipv6": value]).request(.add).config.reader)
    }

    @Test func decoded() throws {
        #expect(try settings(.null) == nil)
        #expect(try settings([:]) == IPv6Settings())
        #expect(try settings(["acceptRA": false, "autoconf": true, "dad": "optimistic"])
                == IPv6Settings(acceptRA: false, autoconf: true, dad: .optimistic))
        #expect(try settings(["AcceptRA": true])?.acceptRA == true)
    }

    static let bad: [(JSONValue, String)] = [
        (["dad": "fast"], "\"ipv6.dad\" \"fast\" is not a DAD mode"),
        (["acceptRA": "no"], "\"ipv6.acceptRA\" must be true or false"),
        (["autoconf": 0], "\"ipv6.autoconf\" must be true or false"),
        (["accept_ra": false], "\"ipv6.accept_ra\" is not an IPv6 setting"),
        ("off", "\"ipv6\" must be an object"),
    ]

    @Test(arguments: bad)
    func refused(value: JSONValue, message: String) {
        do { _ = try settings(value); Issue.record("accepted \(value)") } catch {
            #expect(error.code == .invalidConfig)
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func sysctlsPerMode() {
        let keys = { (s: IPv6Settings) in s.sysctls(ifName: "mvtmp1").map { "\($0.key.path!)=\($0.value)" } }
        #expect(keys(IPv6Settings()).isEmpty)
        #expect(keys(IPv6Settings(acceptRA: false, autoconf: false, dad: .off)) == [
            "/proc/sys/net/ipv6/conf/mvtmp1/accept_ra=0", "/proc/sys/net/ipv6/conf/mvtmp1/autoconf=0", "/proc/sys/net/ipv6/conf/mvtmp1/accept_dad=0"])
        #expect(keys(IPv6Settings(acceptRA: true, dad: .optimistic)) == [
            "/proc/sys/net/ipv6/conf/mvtmp1/accept_ra=1", "/proc/sys/net/ipv6/conf/mvtmp1/optimistic_dad=1"])
        let settings = IPv6Settings(acceptRA: true).sysctls(ifName: "x")
        #expect(settings.allSatisfy { $0.required })
        #expect(IPv6Settings.DAD.wait.waits && !IPv6Settings.DAD.optimistic.waits && !IPv6Settings.DAD.off.waits)
    }
}
