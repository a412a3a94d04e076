import CMnl
import Glibc
import NetTypes
import Netlink
import Testing

@Suite struct RequestEncodingTests {
    let requestAck = UInt16(NLM_F_REQUEST | NLM_F_ACK)
    let createExcl = UInt16(NLM_F_CREATE | NLM_F_EXCL)

    @Test func macvlanWithEverything() throws {
        var r = MacvlanRequest(name: "mvtmp0123456789", parentIndex: 4, mode: .bridge)
        r.mac = MACAddress("02:00:00:00:00:01")
        r.mtu = 1400
        r.broadcastQueueLength = 333
        r.namespaceFD = 7
        let bytes = try RouteRequest.newMacvlan(r, sequence: 42)
        let m = try #require(DecodedMessage(bytes, familyHeaderSize: MemoryLayout<ifinfomsg>.size))
        #expect(m.type == UInt16(RTM_NEWLINK))
        #expect(m.flags == requestAck | createExcl)
        #expect(m.sequence == 42)
        let ifi = m.familyHeader(as: ifinfomsg.self)
        #expect(ifi.ifi_index == 0 && ifi.ifi_family == UInt8(AF_UNSPEC))
        #expect(m.attributes[UInt16(IFLA_IFNAME)] == Array("mvtmp0123456789".utf8) + [0])
        #expect(m.u32(IFLA_LINK) == 4)
        #expect(m.attributes[UInt16(IFLA_ADDRESS)] == [2, 0, 0, 0, 0, 1])
        #expect(m.u32(IFLA_MTU) == 1400)
        #expect(m.u32(IFLA_NET_NS_FD) == 7)
        let info = try #require(m.nested(IFLA_LINKINFO))
        #expect(info[UInt16(IFLA_INFO_KIND)] == Array("macvlan".utf8) + [0])
        let data = try #require(info[UInt16(IFLA_INFO_DATA)]).withUnsafeBytes { decodeAttributes($0).0 }
        #expect(data[UInt16(IFLA_MACVLAN_MODE)].map(decodeU32) == UInt32(MACVLAN_MODE_BRIDGE.rawValue))
        #expect(data[UInt16(IFLA_MACVLAN_BC_QUEUE_LEN)].map(decodeU32) == 333)
    }

    @Test(arguments: MacvlanMode.allCases)
    func minimalRequestAlwaysCarriesTheMode(mode: MacvlanMode) throws {
        let bytes = try RouteRequest.newMacvlan(MacvlanRequest(name: "m0", parentIndex: 2, mode: mode), sequence: 1)
        let m = try #require(DecodedMessage(bytes, familyHeaderSize: MemoryLayout<ifinfomsg>.size))
        #expect(m.attributes[UInt16(IFLA_ADDRESS)] == nil)
        #expect(m.attributes[UInt16(IFLA_MTU)] == nil)
        #expect(m.attributes[UInt16(IFLA_NET_NS_FD)] == nil)
        let info = try #require(m.nested(IFLA_LINKINFO))
        let data = try #require(info[UInt16(IFLA_INFO_DATA)]).withUnsafeBytes { decodeAttributes($0).0 }
        #expect(data[UInt16(IFLA_MACVLAN_MODE)].map(decodeU32) == mode.rawValue)
        #expect(data[UInt16(IFLA_MACVLAN_BC_QUEUE_LEN)] == nil)
    }

    @Test func modeConstantsMatchTheKernel() {
        #expect(MacvlanMode.private.rawValue == UInt32(MACVLAN_MODE_PRIVATE.rawValue))
        #expect(MacvlanMode.vepa.rawValue == UInt32(MACVLAN_MODE_VEPA.rawValue))
        #expect(MacvlanMode.bridge.rawValue == UInt32(MACVLAN_MODE_BRIDGE.rawValue))
        #expect(MacvlanMode.passthru.rawValue == UInt32(MACVLAN_MODE_PASSTHRU.rawValue))
        #expect(MacvlanMode.source.rawValue == UInt32(MACVLAN_MODE_SOURCE.rawValue))
    }

    @Test func macvtapKind() throws {
        var r = MacvlanRequest(name: "tap0", parentIndex: 2, mode: .vepa)
        r.device = .macvtap
        let m = try #require(DecodedMessage(try RouteRequest.newMacvlan(r, sequence: 1),
                                            familyHeaderSize: MemoryLayout<ifinfomsg>.size))
        #expect(m.nested(IFLA_LINKINFO)?[UInt16(IFLA_INFO_KIND)] == Array("macvtap".utf8) + [0])
    }


    @Test(arguments: [
        ("10.1.2.3/24", [10, 1, 2, 255] as [UInt8]?),
        ("10.1.2.3/8", [10, 255, 255, 255]),
        ("192.168.7.9/30", [192, 168, 7, 11]),
        ("10.1.2.3/31", nil),
        ("10.1.2.3/32", nil),
        ("10.1.2.3/0", [255, 255, 255, 255]),
        ("fd00::5/64", nil),
    ])
    func addressRequest(text: String, broadcast: [UInt8]?) throws {
        let prefix = try #require(IPPrefix(text))
        let bytes = RouteRequest.newAddress(prefix, index: 12, sequence: 3)
        let m = try #require(DecodedMessage(bytes, familyHeaderSize: MemoryLayout<ifaddrmsg>.size))
        #expect(m.type == UInt16(RTM_NEWADDR) && m.flags == requestAck | createExcl)
        let ifa = m.familyHeader(as: ifaddrmsg.self)
        #expect(ifa.ifa_index == 12 && Int(ifa.ifa_prefixlen) == prefix.prefixLength)
        #expect(ifa.ifa_family == UInt8(prefix.family == .v4 ? AF_INET : AF_INET6))
        #expect(m.attributes[UInt16(IFA_LOCAL)] == prefix.address.bytes)
        #expect(m.attributes[UInt16(IFA_ADDRESS)] == prefix.address.bytes)
        #expect(m.attributes[UInt16(IFA_BROADCAST)] == broadcast)
    }

    @Test func routeWithEverything() throws {
        var spec = RouteSpec(destination: IPPrefix("192.168.50.7/24")!, gateway: IPAddress("10.0.0.1"), outputIndex: 3)
        spec.priority = 7
        spec.table = 100
        spec.mtu = 1300
        spec.advmss = 1200
        let m = try #require(DecodedMessage(try RouteRequest.newRoute(spec, sequence: 2),
                                            familyHeaderSize: MemoryLayout<rtmsg>.size))
        #expect(m.type == UInt16(RTM_NEWROUTE) && m.flags == requestAck | createExcl)
        let rtm = m.familyHeader(as: rtmsg.self)
        #expect(rtm.rtm_family == UInt8(AF_INET) && rtm.rtm_dst_len == 24 && rtm.rtm_table == 100)
        #expect(rtm.rtm_scope == RouteScope.universe.rawValue && rtm.rtm_type == RouteType.unicast.rawValue)
        #expect(rtm.rtm_protocol == UInt8(RTPROT_BOOT))
        #expect(m.attributes[UInt16(RTA_DST.rawValue)] == [192, 168, 50, 0])   // masked
        #expect(m.attributes[UInt16(RTA_GATEWAY.rawValue)] == [10, 0, 0, 1])
        #expect(m.u32(Int(RTA_OIF.rawValue)) == 3)
        #expect(m.u32(Int(RTA_PRIORITY.rawValue)) == 7)
        #expect(m.u32(Int(RTA_TABLE.rawValue)) == 100)
        let metrics = try #require(m.nested(Int(RTA_METRICS.rawValue)))
        #expect(metrics[UInt16(RTAX_MTU)].map(decodeU32) == 1300)
        #expect(metrics[UInt16(RTAX_ADVMSS)].map(decodeU32) == 1200)
    }

    @Test func defaultRouteDefaults() throws {
        let spec = RouteSpec(destination: IPPrefix("::/0")!, gateway: IPAddress("fd00::1"), outputIndex: 3)
        let m = try #require(DecodedMessage(try RouteRequest.newRoute(spec, sequence: 2),
                                            familyHeaderSize: MemoryLayout<rtmsg>.size))
        let rtm = m.familyHeader(as: rtmsg.self)
        #expect(rtm.rtm_family == UInt8(AF_INET6) && rtm.rtm_dst_len == 0)
        #expect(rtm.rtm_table == UInt8(RT_TABLE_MAIN.rawValue) && rtm.rtm_scope == RouteScope.universe.rawValue)
        #expect(m.attributes[UInt16(RTA_DST.rawValue)] == nil)
        #expect(m.attributes[UInt16(RTA_PRIORITY.rawValue)] == nil)
        #expect(m.attributes[UInt16(RTA_METRICS.rawValue)] == nil)
        #expect(m.u32(Int(RTA_TABLE.rawValue)) == RouteTable.main.rawValue)
    }

    @Test func linkScopeAndLargeTable() throws {
        var spec = RouteSpec(destination: IPPrefix("172.16.0.0/16")!, gateway: nil, outputIndex: 3)
        spec.table = 1000
        let m = try #require(DecodedMessage(try RouteRequest.newRoute(spec, sequence: 2),
                                            familyHeaderSize: MemoryLayout<rtmsg>.size))
        let rtm = m.familyHeader(as: rtmsg.self)
        #expect(rtm.rtm_scope == RouteScope.link.rawValue)
        #expect(rtm.rtm_table == UInt8(RT_TABLE_UNSPEC.rawValue))
        #expect(m.u32(Int(RTA_TABLE.rawValue)) == 1000)
        #expect(m.attributes[UInt16(RTA_GATEWAY.rawValue)] == nil)

        spec.scope = RouteScope.host
        let m2 = try #require(DecodedMessage(try RouteRequest.newRoute(spec, sequence: 2),
                                             familyHeaderSize: MemoryLayout<rtmsg>.size))
        #expect(m2.familyHeader(as: rtmsg.self).rtm_scope == RouteScope.host.rawValue)
    }

    @Test func mixedFamilyGatewayIsRejected() {
        let spec = RouteSpec(destination: IPPrefix("10.0.0.0/8")!, gateway: IPAddress("fd00::1"), outputIndex: 3)
        #expect(throws: NetlinkError.self) { try RouteRequest.newRoute(spec, sequence: 1) }
    }

    @Test func dumps() throws {
        let a = try #require(DecodedMessage(RouteRequest.dumpAddresses(family: nil, sequence: 1),
                                            familyHeaderSize: MemoryLayout<ifaddrmsg>.size))
        #expect(a.type == UInt16(RTM_GETADDR) && a.flags & UInt16(NLM_F_DUMP) == UInt16(NLM_F_DUMP))
        let r = try #require(DecodedMessage(RouteRequest.dumpRoutes(family: .v6, sequence: 1),
                                            familyHeaderSize: MemoryLayout<rtmsg>.size))
        #expect(r.type == UInt16(RTM_GETROUTE) && r.familyHeader(as: rtmsg.self).rtm_family == UInt8(AF_INET6))
        #expect(r.familyHeader(as: rtmsg.self).rtm_table == 0)
    }
}
