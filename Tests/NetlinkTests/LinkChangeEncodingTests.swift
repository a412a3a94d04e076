import CMnl
import Glibc
import NetTypes
import Netlink
import Testing

/// RTM_SETLINK for an existing link: only what is given is sent, and only the flags given are in ifi_change.
@Suite struct LinkChangeEncodingTests {
    @Test func moveRenameAndReconfigure() throws {
        var c = LinkChange(index: 9)
        c.namespaceFD = 5
        c.name = "mttmp0123456789"
        c.mac = MACAddress("02:00:00:00:00:aa")
        c.mtu = 1300
        c.promiscuous = true
        c.up = false
        let m = try #require(DecodedMessage(try RouteRequest.changeLink(c, sequence: 3), familyHeaderSize: MemoryLayout<ifinfomsg>.size))
        #expect(m.type == UInt16(RTM_SETLINK))
        #expect(m.flags == UInt16(NLM_F_REQUEST | NLM_F_ACK))
        let ifi = m.familyHeader(as: ifinfomsg.self)
        #expect(ifi.ifi_index == 9)
        #expect(ifi.ifi_change == UInt32(IFF_PROMISC | IFF_UP))
        #expect(ifi.ifi_flags == UInt32(IFF_PROMISC))
        #expect(m.u32(IFLA_NET_NS_FD) == 5)
        #expect(m.attributes[UInt16(IFLA_IFNAME)] == Array("mttmp0123456789".utf8) + [0])
        #expect(m.attributes[UInt16(IFLA_ADDRESS)] == [2, 0, 0, 0, 0, 0xaa])
        #expect(m.u32(IFLA_MTU) == 1300)
    }

    @Test func nothingGivenChangesNothing() throws {
        let m = try #require(DecodedMessage(try RouteRequest.changeLink(LinkChange(index: 4), sequence: 1),
                                            familyHeaderSize: MemoryLayout<ifinfomsg>.size))
        let ifi = m.familyHeader(as: ifinfomsg.self)
        #expect(ifi.ifi_change == 0 && ifi.ifi_flags == 0)
        #expect(m.attributes.isEmpty)
    }
}
