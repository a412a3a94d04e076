import CMnl
import Glibc
import NetTypes
import Netlink
import Testing

/// The requests and attributes host access added: route deletion, route source, link alias, addresses without DAD.
@Suite struct HostAccessRequestTests {
    @Test func deleteRouteMatchesDestinationInterfaceAndTable() throws {
        var spec = RouteSpec(destination: IPPrefix("10.9.0.10/32")!, gateway: nil, outputIndex: 7)
        spec.source = IPAddress("10.9.0.1")   // not part of the match
        let m = try #require(DecodedMessage(try RouteRequest.deleteRoute(spec, sequence: 4), familyHeaderSize: MemoryLayout<rtmsg>.size))
        #expect(m.type == UInt16(RTM_DELROUTE) && m.flags == UInt16(NLM_F_REQUEST | NLM_F_ACK))
        let rtm = m.familyHeader(as: rtmsg.self)
        #expect(rtm.rtm_family == UInt8(AF_INET) && rtm.rtm_dst_len == 32 && rtm.rtm_table == UInt8(RT_TABLE_MAIN.rawValue))
        #expect(rtm.rtm_scope == RouteScope.nowhere.rawValue && rtm.rtm_type == 0)
        #expect(m.attributes[UInt16(RTA_DST.rawValue)] == [10, 9, 0, 10])
        #expect(m.u32(Int(RTA_OIF.rawValue)) == 7)
        #expect(m.attributes[UInt16(RTA_PREFSRC.rawValue)] == nil)
    }

    @Test func routeSourceIsSentAsPrefsrc() throws {
        var spec = RouteSpec(destination: IPPrefix("fd66::10/128")!, gateway: nil, outputIndex: 7)
        spec.source = IPAddress("fd66::fe")
        let m = try #require(DecodedMessage(try RouteRequest.newRoute(spec, sequence: 4), familyHeaderSize: MemoryLayout<rtmsg>.size))
        #expect(m.attributes[UInt16(RTA_PREFSRC.rawValue)] == IPAddress("fd66::fe")!.bytes)
        spec.source = IPAddress("10.9.0.1")
        #expect(throws: NetlinkError.self) { try RouteRequest.newRoute(spec, sequence: 1) }
        #expect(throws: NetlinkError.self) { try RouteRequest.deleteRoute(spec, sequence: 1) }
    }

    @Test func aliasIsASetlinkWithIfalias() throws {
        let m = try #require(DecodedMessage(try RouteRequest.setAlias(index: 9, "macvlan-cni host access shim", sequence: 5),
                                            familyHeaderSize: MemoryLayout<ifinfomsg>.size))
        #expect(m.type == UInt16(RTM_SETLINK))
        let ifi = m.familyHeader(as: ifinfomsg.self)
        #expect(ifi.ifi_index == 9 && ifi.ifi_change == 0)
        #expect(m.attributes[UInt16(IFLA_IFALIAS)] == Array("macvlan-cni host access shim".utf8) + [0])
        #expect(throws: NetlinkError.self) { try RouteRequest.setAlias(index: 9, String(repeating: "a", count: 256), sequence: 1) }
    }

    @Test func noDADOnlyForIPv6() throws {
        let v6 = try #require(DecodedMessage(RouteRequest.newAddress(IPPrefix("fd66::fe/128")!, index: 3, flags: .nodad, sequence: 1),
                                             familyHeaderSize: MemoryLayout<ifaddrmsg>.size))
        #expect(v6.u32(Int(IFA_FLAGS)) == UInt32(IFA_F_NODAD))
        let v4 = try #require(DecodedMessage(RouteRequest.newAddress(IPPrefix("10.9.0.254/32")!, index: 3, flags: .nodad, sequence: 1),
                                             familyHeaderSize: MemoryLayout<ifaddrmsg>.size))
        #expect(v4.attributes[UInt16(IFA_FLAGS)] == nil)
        let plain = try #require(DecodedMessage(RouteRequest.newAddress(IPPrefix("fd66::fe/128")!, index: 3, sequence: 1),
                                                familyHeaderSize: MemoryLayout<ifaddrmsg>.size))
        #expect(plain.attributes[UInt16(IFA_FLAGS)] == nil)
    }

    @Test func aliasAndPrefsrcAreParsed() throws {
        var ifi = ifinfomsg()
        ifi.ifi_index = 4
        var link = CannedMessage(type: Int(RTM_NEWLINK), header: ifi)
        link.attr(Int(IFLA_IFNAME), string: "mvh-eth0")
        link.attr(Int(IFLA_IFALIAS), string: "macvlan-cni host access shim")
        #expect(parseLinkMessage(link.finished)?.alias == "macvlan-cni host access shim")

        var rtm = rtmsg()
        rtm.rtm_family = UInt8(AF_INET)
        rtm.rtm_dst_len = 32
        var route = CannedMessage(type: Int(RTM_NEWROUTE), header: rtm)
        route.attr(Int(RTA_DST.rawValue), [10, 9, 0, 10])
        route.attr(Int(RTA_PREFSRC.rawValue), [10, 9, 0, 1])
        #expect(parseRouteMessage(route.finished)?.source == IPAddress("10.9.0.1"))
    }
}
