import Testing
@testable import DHCPv6

@Suite struct IdentityTests {
    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
        (String(repeating: "a", count: 1000), "291e9a6c66994949b57ba5e650361e98fc36b1ba"),
    ])
    func sha1(_ input: String, _ digest: String) { #expect(hexText(SHA1.hash(Array(input.utf8))) == digest) }

    @Test func nameBasedUUIDMatchesRFC9562() {
        // uuid5(NAMESPACE_DNS, "python.org") as Python's uuid module computes it.
        let dns: [UInt8] = [0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8]
        #expect(hexText(ClientIdentity.nameBasedUUID(namespace: dns, name: "python.org")) == "886313e13b8a53729b900c9aee199e5d")
    }

    @Test func duidIsAStableDUIDUUIDOfTheIdentity() {
        let a = ClientIdentity(identity: "d6c0ffee/dhcpv6-test/eth0")
        // Fixed forever: the DUID dnsmasq saw in the recorded transcript (uuid5 in our namespace, checked in Python).
        #expect(a.uuidText == "4bc60d19-1155-5dd2-9a38-3d5a091db5ea")
        #expect(a.duid.count == 18 && a.duid[0...1] == [0, 4])
        #expect(a.iaid == 0x091d_b5ea)
        #expect(ClientIdentity(identity: "d6c0ffee/dhcpv6-test/eth0") == a)
        let other = ClientIdentity(identity: "d6c0ffee/dhcpv6-test/eth1")
        #expect(other.duid != a.duid && other.iaid != a.iaid)
    }
}
