import Testing
@testable import NetTypes

@Suite struct IPAddressTests {
    @Test(arguments: ["10.1.2.3", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::", "fe80::1:2", "::ffff:1.2.3.4"])
    func roundTrips(_ text: String) throws {
        let ip = try #require(IPAddress(text))
        #expect(ip.description == text)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/24", "2001:db8:::1", "abc", " 1.2.3.4", "1.2.3.04x"])
    func rejects(_ text: String) { #expect(IPAddress(text) == nil) }

    @Test func canonicalIPv6() { #expect(IPAddress("2001:0DB8:0000:0000:0000:0000:0000:0001")?.description == "2001:db8::1") }

    @Test func masking() {
        #expect(IPAddress("10.1.2.3")!.masked(to: 24) == IPAddress("10.1.2.0"))
        #expect(IPAddress("10.1.2.255")!.masked(to: 25) == IPAddress("10.1.2.128"))
        #expect(IPAddress("2001:db8::ffff")!.masked(to: 120) == IPAddress("2001:db8::ff00"))
        #expect(IPAddress("10.1.2.3")!.masked(to: 0) == IPAddress("0.0.0.0"))
    }
}

@Suite struct IPPrefixTests {
    @Test func keepsHostBits() throws {
        let p = try #require(IPPrefix("10.1.2.3/24"))
        #expect(p.description == "10.1.2.3/24")
        #expect(p.network.description == "10.1.2.0/24")
        #expect(p.contains(IPAddress("10.1.2.200")!))
        #expect(!p.contains(IPAddress("10.1.3.1")!))
        #expect(!p.contains(IPAddress("::1")!))
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0.0", "10.0.0.0/", "10.0.0.0/-1", "::/129", "10.0.0.0/2x", "/24", "10.0.0.0/0024"])
    func rejects(_ text: String) { #expect(IPPrefix(text) == nil) }

    @Test func defaultRoutes() {
        #expect(IPPrefix("0.0.0.0/0")!.isDefaultRoute)
        #expect(IPPrefix("::/0")!.isDefaultRoute)
        #expect(IPPrefix("::/0")!.family == .v6)
    }
}

@Suite struct MACAddressTests {
    @Test func parsesAndPrints() throws {
        #expect(MACAddress("0A:58:0a:01:02:03")?.description == "0a:58:0a:01:02:03")
        #expect(MACAddress("0a-58-0a-01-02-03")?.description == "0a:58:0a:01:02:03")
    }

    @Test(arguments: ["", "0a:58:0a:01:02", "0a:58:0a:01:02:03:04", "0a:58:0a:01:02:zz", "0a:58:0a:01:02:3", "0a:58-0a:01:02:03"])
    func rejects(_ text: String) { #expect(MACAddress(text) == nil) }

    @Test func classifies() {
        #expect(MACAddress("01:00:5e:00:00:01")!.isMulticast)
        #expect(MACAddress("ff:ff:ff:ff:ff:ff")!.isBroadcast)
        #expect(!MACAddress("ff:ff:ff:ff:ff:ff")!.isAssignable)
        #expect(!MACAddress("00:00:00:00:00:00")!.isAssignable)
        #expect(MACAddress("02:00:00:00:00:01")!.isAssignable)
    }
}

@Suite struct InterfaceAddressTests {
    @Test(arguments: [("0.0.0.0", "unspecified"), ("::", "unspecified"), ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"),
                      ("::1", "loopback"), ("224.0.0.5", "multicast"), ("239.255.255.255", "multicast"), ("ff02::1", "multicast"),
                      ("255.255.255.255", "limited broadcast")])
    func refused(_ text: String, _ reason: String) throws {
        let problem = try #require(IPAddress(text)?.interfaceAddressProblem)
        #expect(problem.contains(reason))
    }

    @Test(arguments: ["10.1.2.3", "192.168.0.255", "223.255.255.254", "240.0.0.1", "2001:db8::1", "fe80::1", "::2", "fd00::ff"])
    func accepted(_ text: String) { #expect(IPAddress(text)?.interfaceAddressProblem == nil) }

    @Test func lengthOutOfRange() {
        #expect(IPPrefix.lengthProblem("10.0.0.2/33") == "prefix length 33 is out of range for an IPv4 address (0 to 32)")
        #expect(IPPrefix.lengthProblem("2001:db8::2/129") == "prefix length 129 is out of range for an IPv6 address (0 to 128)")
        #expect(IPPrefix.lengthProblem("10.0.0.2/4096")?.contains("4096") == true)
        #expect(IPPrefix.lengthProblem("10.0.0.2/24") == nil)   // fine
        #expect(IPPrefix.lengthProblem("10.0.0.2/2x") == nil)   // malformed, not a range problem
        #expect(IPPrefix.lengthProblem("10.0.0.2/0024") == nil)
        #expect(IPPrefix.lengthProblem("nonsense/99") == nil)
    }
}

/// The one interface-name rule: the kernel's, plus no control or non-ASCII bytes (decided in InterfaceName). Sysctl keys,
/// netlink requests and CNI_IFNAME take an InterfaceName, so these cases are the whole test of the rule.
@Suite struct InterfaceNameTests {
    @Test(arguments: ["eth0", "a", "net1.100", "fifteen-bytes-x", "veth_A-1", "all", "default"])
    func accepted(_ name: String) { #expect(InterfaceName(name)?.text == name) }

    @Test(arguments: ["", ".", "..", "a/b", "a:b", "a b", "tab\t", "nl\n", "nul\u{0}x", "del\u{7F}", "bell\u{7}",
                      "sixteen-bytes-xx", "ethé", "\u{301}x", "../../x"])
    func refused(_ name: String) {
        #expect(InterfaceName(name) == nil)
        #expect(InterfaceName.problem(name) != nil)
    }

    @Test func problemsAreNamed() {
        #expect(InterfaceName.problem("sixteen-bytes-xx") == "it is 16 bytes long; the limit is 15")
        #expect(InterfaceName.problem("ethé")?.contains("non-ASCII") == true)
        #expect(InterfaceName.problem("a:b")?.contains("':'") == true)
    }
}
