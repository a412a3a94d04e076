import CMnl
import Glibc
import NetTypes
import Netlink
import Testing

/// bclim, queue counts, the permanent address and optimistic addresses: encoded as the kernel expects them and
/// read back from its replies.
@Suite struct LinkKnobsTests {
    static let bcCutoff: UInt16 = 9  // IFLA_MACVLAN_BC_CUTOFF (Linux 6.8 uapi; not in this machine's headers)

    @Test(arguments: [Int32(-1), 0, 1, 64, Int32.max])
    func broadcastCutoffAndQueuesAreEncoded(cutoff: Int32) throws {
        var r = MacvlanRequest(name: "m0", parentIndex: 2, mode: .bridge)
        r.broadcastCutoff = cutoff
        r.transmitQueues = 4
        r.receiveQueues = 3
        let m = try #require(DecodedMessage(try RouteRequest.newMacvlan(r, sequence: 1), familyHeaderSize: MemoryLayout<ifinfomsg>.size))
        #expect(m.u32(IFLA_NUM_TX_QUEUES) == 4)
        #expect(m.u32(IFLA_NUM_RX_QUEUES) == 3)
        let info = try #require(m.nested(IFLA_LINKINFO))
        let data = try #require(info[UInt16(IFLA_INFO_DATA)]).withUnsafeBytes { decodeAttributes($0).0 }
        #expect(data[Self.bcCutoff].map(decodeU32).map { Int32(bitPattern: $0) } == cutoff)
    }

    @Test func knobsAreAbsentUnlessAsked() throws {
        let r = MacvlanRequest(name: "m0", parentIndex: 2, mode: .bridge)
        let m = try #require(DecodedMessage(try RouteRequest.newMacvlan(r, sequence: 1), familyHeaderSize: MemoryLayout<ifinfomsg>.size))
        #expect(m.attributes[UInt16(IFLA_NUM_TX_QUEUES)] == nil && m.attributes[UInt16(IFLA_NUM_RX_QUEUES)] == nil)
        let data = try #require(m.nested(IFLA_LINKINFO)?[UInt16(IFLA_INFO_DATA)]).withUnsafeBytes { decodeAttributes($0).0 }
        #expect(data[Self.bcCutoff] == nil)
    }

    static func link(permanent: [UInt8]?, cutoff: Int32?) -> [UInt8] {
        var ifi = ifinfomsg()
        ifi.ifi_index = 7
        ifi.ifi_type = 1
        var m = CannedMessage(type: Int(RTM_NEWLINK), header: ifi)
        m.attr(Int(IFLA_IFNAME), string: "ens1f0")
        m.attr(Int(IFLA_ADDRESS), [2, 0, 0, 0, 0, 9])
        if let permanent { m.attr(Int(IFLA_PERM_ADDRESS), permanent) }
        m.attr(Int(IFLA_NUM_TX_QUEUES), u32: 8)
        m.attr(Int(IFLA_NUM_RX_QUEUES), u32: 6)
        m.nest(Int(IFLA_LINKINFO)) { m in
            m.attr(Int(IFLA_INFO_KIND), string: "macvlan")
            m.nest(Int(IFLA_INFO_DATA)) { m in
                m.attr(Int(IFLA_MACVLAN_MODE), u32: 4)
                if let cutoff { m.attr(Int(Self.bcCutoff), u32: UInt32(bitPattern: cutoff)) }
            }
        }
        return m.finished
    }

    @Test func permanentAddressQueuesAndCutoffAreParsed() throws {
        let link = try #require(parseLinkMessage(Self.link(permanent: [0x52, 0x54, 0, 0x12, 0x34, 0x56], cutoff: -1)))
        #expect(link.permanentMac == MACAddress("52:54:00:12:34:56"))
        #expect(link.mac == MACAddress("02:00:00:00:00:09"))
        #expect(link.transmitQueues == 8 && link.receiveQueues == 6)
        #expect(link.macvlanBroadcastCutoff == -1)
    }

    /// Virtual devices (veth) have no permanent address; the kernel omits both it and a default cutoff.
    @Test func absentPermanentAddressAndDefaultCutoff() throws {
        let link = try #require(parseLinkMessage(Self.link(permanent: nil, cutoff: nil)))
        #expect(link.permanentMac == nil && link.macvlanBroadcastCutoff == nil)
    }

    @Test func truncatedPermanentAddressIsIgnored() throws {
        let link = try #require(parseLinkMessage(Self.link(permanent: [1, 2, 3], cutoff: nil)))
        #expect(link.permanentMac == nil)
    }

    @Test func optimisticAddressCarriesIFAFlags() throws {
        let prefix = try #require(IPPrefix("fd00::5/64"))
        let m = try #require(DecodedMessage(RouteRequest.newAddress(prefix, index: 3, flags: AddressFlags.optimistic, sequence: 1),
                                            familyHeaderSize: MemoryLayout<ifaddrmsg>.size))
        #expect(m.u32(Int(IFA_FLAGS)) == UInt32(IFA_F_OPTIMISTIC))
        let plain = try #require(DecodedMessage(RouteRequest.newAddress(prefix, index: 3, sequence: 1),
                                                familyHeaderSize: MemoryLayout<ifaddrmsg>.size))
        #expect(plain.attributes[UInt16(IFA_FLAGS)] == nil)
    }
}
