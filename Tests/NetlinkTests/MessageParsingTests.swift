import CMnl
import Glibc
import NetTypes
import Netlink
import Testing

@Suite struct MessageParsingTests {
    static func macvlanLink() -> [UInt8] {
        var ifi = ifinfomsg()
        ifi.ifi_index = 5
        ifi.ifi_type = 1
        ifi.ifi_flags = 0x1 | 0x1000 | 0x2 | 0x10000  // UP, MULTICAST, BROADCAST, LOWER_UP
        var m = CannedMessage(type: Int(RTM_NEWLINK), header: ifi)
        m.attr(Int(IFLA_IFNAME), string: "eth0")
        m.attr(Int(IFLA_TXQLEN), u32: 1000)
        m.attr(Int(IFLA_OPERSTATE), u8: 6)
        m.attr(Int(IFLA_MTU), u32: 1400)
        m.attr(Int(IFLA_LINK), u32: 3)
        m.attr(Int(IFLA_ADDRESS), [2, 0x11, 0x22, 0x33, 0x44, 0x55])
        m.attr(Int(IFLA_BROADCAST), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        m.nest(Int(IFLA_LINKINFO)) { m in
            m.attr(Int(IFLA_INFO_KIND), string: "macvlan")
            m.nest(Int(IFLA_INFO_DATA)) { m in
                m.attr(Int(IFLA_MACVLAN_MODE), u32: 4)
                m.attr(Int(IFLA_MACVLAN_FLAGS), [0, 0])
                m.attr(Int(IFLA_MACVLAN_BC_QUEUE_LEN), u32: 333)
            }
        }
        m.attr(Int(IFLA_LINK_NETNSID), u32: 0)
        return m.finished
    }

    @Test func link() throws {
        let link = try #require(parseLinkMessage(Self.macvlanLink()))
        #expect(link.index == 5 && link.name == "eth0")
        #expect(link.kind == .macvlanFamily(.macvlan, mode: .bridge) && link.macvlanBroadcastQueueLength == 333)
        #expect(link.mac == MACAddress("02:11:22:33:44:55"))
        #expect(link.mtu == 1400 && link.parentIndex == 3 && link.linkNetnsID == 0)
        #expect(link.isUp && !link.isLoopback && link.hardwareType == 1)
        #expect(link.txQueueLength == 1000 && link.operState == 6)
    }

    @Test func linkWithoutLinkInfo() throws {
        var ifi = ifinfomsg()
        ifi.ifi_index = 1
        ifi.ifi_flags = 0x8 | 0x1
        ifi.ifi_type = 772
        var m = CannedMessage(type: Int(RTM_NEWLINK), header: ifi)
        m.attr(Int(IFLA_IFNAME), string: "lo")
        m.attr(Int(IFLA_ADDRESS), [0, 0, 0, 0, 0, 0])
        let link = try #require(parseLinkMessage(m.finished))
        #expect(link.isLoopback && link.kind == nil && link.parentIndex == nil)
    }

    @Test func veth_modeIsIgnoredForOtherKinds() throws {
        var ifi = ifinfomsg()
        ifi.ifi_index = 2
        var m = CannedMessage(type: Int(RTM_NEWLINK), header: ifi)
        m.attr(Int(IFLA_IFNAME), string: "p0")
        m.nest(Int(IFLA_LINKINFO)) { m in
            m.attr(Int(IFLA_INFO_KIND), string: "veth")
            m.nest(Int(IFLA_INFO_DATA)) { m in m.attr(1, u32: 4) }
        }
        let link = try #require(parseLinkMessage(m.finished))
        #expect(link.kind == .other("veth"))
    }

    @Test func linkNeedsNameAndIndex() {
        var ifi = ifinfomsg()
        ifi.ifi_index = 2
        #expect(parseLinkMessage(CannedMessage(type: Int(RTM_NEWLINK), header: ifi).finished) == nil)
        ifi.ifi_index = 0
        var m = CannedMessage(type: Int(RTM_NEWLINK), header: ifi)
        m.attr(Int(IFLA_IFNAME), string: "x")
        #expect(parseLinkMessage(m.finished) == nil)
        // another message type
        var a = CannedMessage(type: Int(RTM_NEWADDR), header: ifi)
        a.attr(Int(IFLA_IFNAME), string: "x")
        #expect(parseLinkMessage(a.finished) == nil)
    }

    @Test func addresses() throws {
        var ifa = ifaddrmsg()
        ifa.ifa_family = UInt8(AF_INET6)
        ifa.ifa_prefixlen = 64
        ifa.ifa_index = 5
        ifa.ifa_flags = 0x40
        var m = CannedMessage(type: Int(RTM_NEWADDR), header: ifa)
        m.attr(Int(IFA_ADDRESS), IPAddress("fd00::2")!.bytes)
        m.attr(Int(IFA_FLAGS), u32: 0x40 | 0x200)
        let a = try #require(parseAddressMessage(m.finished))
        #expect(a.prefix == IPPrefix("fd00::2/64") && a.index == 5 && a.isTentative && !a.isDADFailed)
        #expect(a.flags.rawValue == 0x240)

        var v4 = ifaddrmsg()
        v4.ifa_family = UInt8(AF_INET)
        v4.ifa_prefixlen = 32
        v4.ifa_index = 6
        v4.ifa_flags = 0x08
        var p = CannedMessage(type: Int(RTM_NEWADDR), header: v4)
        p.attr(Int(IFA_ADDRESS), [10, 0, 0, 1])   // peer
        p.attr(Int(IFA_LOCAL), [10, 0, 0, 2])     // ours
        let b = try #require(parseAddressMessage(p.finished))
        #expect(b.prefix == IPPrefix("10.0.0.2/32") && b.isDADFailed && b.flags.rawValue == 0x08)
    }

    @Test func addressRejectsInconsistentLengths() {
        var ifa = ifaddrmsg()
        ifa.ifa_family = UInt8(AF_INET)
        ifa.ifa_prefixlen = 33
        var m = CannedMessage(type: Int(RTM_NEWADDR), header: ifa)
        m.attr(Int(IFA_ADDRESS), [10, 0, 0, 1])
        #expect(parseAddressMessage(m.finished) == nil)
        ifa.ifa_prefixlen = 24
        var w = CannedMessage(type: Int(RTM_NEWADDR), header: ifa)
        w.attr(Int(IFA_ADDRESS), IPAddress("fd00::1")!.bytes)   // v6 bytes in a v4 message
        #expect(parseAddressMessage(w.finished) == nil)
    }

    @Test func routes() throws {
        var rtm = rtmsg()
        rtm.rtm_family = UInt8(AF_INET)
        rtm.rtm_dst_len = 24
        rtm.rtm_table = 252
        rtm.rtm_scope = 0
        rtm.rtm_type = 1
        rtm.rtm_protocol = 3
        var m = CannedMessage(type: Int(RTM_NEWROUTE), header: rtm)
        m.attr(Int(RTA_TABLE.rawValue), u32: 1000)
        m.attr(Int(RTA_DST.rawValue), [192, 168, 50, 0])
        m.attr(Int(RTA_GATEWAY.rawValue), [10, 0, 0, 1])
        m.attr(Int(RTA_OIF.rawValue), u32: 3)
        m.attr(Int(RTA_PRIORITY.rawValue), u32: 9)
        m.nest(Int(RTA_METRICS.rawValue)) { m in
            m.attr(Int(RTAX_MTU), u32: 1300)
            m.attr(Int(RTAX_ADVMSS), u32: 1200)
        }
        let r = try #require(parseRouteMessage(m.finished))
        #expect(r.destination == IPPrefix("192.168.50.0/24") && r.gateway == IPAddress("10.0.0.1"))
        #expect(r.outputIndex == 3 && r.priority == 9 && r.table == 1000 && r.mtu == 1300 && r.advmss == 1200)
        #expect(r.type == 1 && r.protocolID == 3 && r.scope == 0)

        var d = rtmsg()
        d.rtm_family = UInt8(AF_INET6)
        d.rtm_table = 254
        var dm = CannedMessage(type: Int(RTM_NEWROUTE), header: d)
        dm.attr(Int(RTA_OIF.rawValue), u32: 2)
        let def = try #require(parseRouteMessage(dm.finished))
        #expect(def.destination == IPPrefix("::/0") && def.table == 254 && def.priority == 0 && def.gateway == nil)
    }

    @Test func routeOfOtherFamilyIsSkipped() {
        var rtm = rtmsg()
        rtm.rtm_family = 128  // RTNL_FAMILY_IPMR
        #expect(parseRouteMessage(CannedMessage(type: Int(RTM_NEWROUTE), header: rtm).finished) == nil)
    }
}
