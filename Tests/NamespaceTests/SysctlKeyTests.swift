import Namespace
import NetTypes
import Testing

@Suite struct SysctlKeyTests {
    @Test func paths() {
        #expect(SysctlKey.ipv4(interface: "eth0", name: "arp_notify").path == "/proc/sys/net/ipv4/conf/eth0/arp_notify")
        #expect(SysctlKey.ipv6(interface: "net1.100", name: "disable_ipv6").path
                == "/proc/sys/net/ipv6/conf/net1.100/disable_ipv6")
        #expect(SysctlKey.ipv6(interface: "all", name: "ndisc_notify").path == "/proc/sys/net/ipv6/conf/all/ndisc_notify")
    }

    @Test(arguments: ["", ".", "..", "../x", "a/b", "Arp", "x y"])
    func badKeys(key: String) {
        #expect(SysctlKey.ipv4(interface: "eth0", name: key).path == nil)
    }

    @Test func invalidKeyIsNotWritten() {
        #expect(throws: NamespaceError.self) { try writeSysctl(.ipv4(interface: "eth0", name: "../x"), "1") }
    }

    @Test func readingAMissingInterface() {
        #expect(throws: NamespaceError.notFound(path: "/proc/sys/net/ipv4/conf/nonexist-x9/arp_notify")) {
            try readSysctl(.ipv4(interface: "nonexist-x9", name: "arp_notify"))
        }
    }
}
