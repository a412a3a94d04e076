import CMnl
import Glibc
import NetTypes

// The C headers import their constants with assorted types (anonymous enums as Int, macros as Int32, named
// enums as structs with .rawValue). Everything is converted here, once, to the width netlink carries.

// Values the kernel reports are open types: it can send a scope, table, type or flag we have no name for, and
// that value must survive a round trip. Integer literals are accepted for the numeric ones (tables are ids).

/// rtm_scope (also ifa_scope).
public struct RouteScope: RawRepresentable, Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt8) { rawValue = value }
    public var description: String { "\(rawValue)" }

    public static let universe = RouteScope(rawValue: UInt8(RT_SCOPE_UNIVERSE.rawValue))
    public static let site = RouteScope(rawValue: UInt8(RT_SCOPE_SITE.rawValue))
    public static let link = RouteScope(rawValue: UInt8(RT_SCOPE_LINK.rawValue))
    public static let host = RouteScope(rawValue: UInt8(RT_SCOPE_HOST.rawValue))
    public static let nowhere = RouteScope(rawValue: UInt8(RT_SCOPE_NOWHERE.rawValue))
}

/// Routing table ids (RTA_TABLE; rtm_table holds only the ids below 256).
public struct RouteTable: RawRepresentable, Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { rawValue = value }
    public var description: String { "\(rawValue)" }

    public static let unspecified = RouteTable(rawValue: UInt32(RT_TABLE_UNSPEC.rawValue))
    public static let main = RouteTable(rawValue: UInt32(RT_TABLE_MAIN.rawValue))
    public static let local = RouteTable(rawValue: UInt32(RT_TABLE_LOCAL.rawValue))
}

/// rtm_type.
public struct RouteType: RawRepresentable, Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt8) { rawValue = value }
    public var description: String { "\(rawValue)" }

    public static let unicast = RouteType(rawValue: UInt8(RTN_UNICAST))
    public static let local = RouteType(rawValue: UInt8(RTN_LOCAL))
    public static let broadcast = RouteType(rawValue: UInt8(RTN_BROADCAST))
    public static let multicast = RouteType(rawValue: UInt8(RTN_MULTICAST))
    public static let unreachable = RouteType(rawValue: UInt8(RTN_UNREACHABLE))
}

/// ifi_flags: the interface flags the plugin looks at.
public struct InterfaceFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    // From linux/if.h, which cannot be included next to glibc's net/if.h.
    public static let up = InterfaceFlags(rawValue: 0x1)
    public static let loopback = InterfaceFlags(rawValue: 0x8)
    public static let lowerUp = InterfaceFlags(rawValue: 0x10000)
    public static let promiscuous = InterfaceFlags(rawValue: 0x100)
}

/// IFA_FLAGS / ifa_flags: the address flags the plugin looks at.
public struct AddressFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let tentative = AddressFlags(rawValue: UInt32(IFA_F_TENTATIVE))
    public static let dadFailed = AddressFlags(rawValue: UInt32(IFA_F_DADFAILED))
    public static let nodad = AddressFlags(rawValue: UInt32(IFA_F_NODAD))
    public static let permanent = AddressFlags(rawValue: UInt32(IFA_F_PERMANENT))
    public static let optimistic = AddressFlags(rawValue: UInt32(IFA_F_OPTIMISTIC))
}

/// ifi_type (ARPHRD_*).
public struct HardwareType: RawRepresentable, Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt16) { rawValue = value }
    public var description: String { "\(rawValue)" }

    // From linux/if_arp.h, which cannot be included next to glibc's net/if_arp.h.
    public static let ether = HardwareType(rawValue: 1)
    public static let loopback = HardwareType(rawValue: 772)
}

/// Internal constants at the widths the message code uses.
enum K {
    // nlmsghdr
    static let flagRequest = UInt16(NLM_F_REQUEST)
    static let flagAck = UInt16(NLM_F_ACK)
    static let flagCreate = UInt16(NLM_F_CREATE)
    static let flagExclusive = UInt16(NLM_F_EXCL)
    static let flagReplace = UInt16(NLM_F_REPLACE)
    static let flagDump = UInt16(NLM_F_DUMP)
    static let flagCapped = UInt16(NLM_F_CAPPED)
    static let flagAckTLVs = UInt16(NLM_F_ACK_TLVS)
    static let flagDumpInterrupted = UInt16(NLM_F_DUMP_INTR)
    static let msgNoop = UInt16(NLMSG_NOOP)
    static let msgError = UInt16(NLMSG_ERROR)
    static let msgDone = UInt16(NLMSG_DONE)
    static let msgOverrun = UInt16(NLMSG_OVERRUN)
    static let msgMinType = UInt16(NLMSG_MIN_TYPE)
    static let errAttrMsg = UInt16(NLMSGERR_ATTR_MSG.rawValue)
    static let optExtAck = Int32(NETLINK_EXT_ACK)
    static let optCapAck = Int32(NETLINK_CAP_ACK)

    // message types
    static let newLink = UInt16(RTM_NEWLINK)
    static let delLink = UInt16(RTM_DELLINK)
    static let getLink = UInt16(RTM_GETLINK)
    static let setLink = UInt16(RTM_SETLINK)
    static let newAddr = UInt16(RTM_NEWADDR)
    static let delAddr = UInt16(RTM_DELADDR)
    static let getAddr = UInt16(RTM_GETADDR)
    static let newRoute = UInt16(RTM_NEWROUTE)
    static let delRoute = UInt16(RTM_DELROUTE)
    static let getRoute = UInt16(RTM_GETROUTE)

    // link attributes
    static let iflaAddress = UInt16(IFLA_ADDRESS)
    static let iflaIfname = UInt16(IFLA_IFNAME)
    static let iflaMTU = UInt16(IFLA_MTU)
    static let iflaLink = UInt16(IFLA_LINK)
    static let iflaTxqlen = UInt16(IFLA_TXQLEN)
    static let iflaOperstate = UInt16(IFLA_OPERSTATE)
    static let iflaLinkinfo = UInt16(IFLA_LINKINFO)
    static let iflaNetNsFD = UInt16(IFLA_NET_NS_FD)
    static let iflaExtMask = UInt16(IFLA_EXT_MASK)
    static let iflaLinkNetnsid = UInt16(IFLA_LINK_NETNSID)
    static let iflaIfalias = UInt16(IFLA_IFALIAS)
    static let iflaInfoKind = UInt16(IFLA_INFO_KIND)
    static let iflaInfoData = UInt16(IFLA_INFO_DATA)
    static let iflaMacvlanMode = UInt16(IFLA_MACVLAN_MODE)
    static let iflaMacvlanBcQueueLen = UInt16(IFLA_MACVLAN_BC_QUEUE_LEN)
    // Linux 6.8's uapi enum: MODE 1 ... BC_QUEUE_LEN 7, BC_QUEUE_LEN_USED 8, BC_CUTOFF 9. Older headers (this
    // machine's 6.1) lack the name; the number is stable ABI.
    static let iflaMacvlanBcCutoff: UInt16 = 9
    static let iflaPermAddress = UInt16(IFLA_PERM_ADDRESS)
    static let iflaNumTxQueues = UInt16(IFLA_NUM_TX_QUEUES)
    static let iflaNumRxQueues = UInt16(IFLA_NUM_RX_QUEUES)
    static let extFilterSkipStats = UInt32(RTEXT_FILTER_SKIP_STATS)

    // address attributes
    static let ifaAddress = UInt16(IFA_ADDRESS)
    static let ifaLocal = UInt16(IFA_LOCAL)
    static let ifaBroadcast = UInt16(IFA_BROADCAST)
    static let ifaFlags = UInt16(IFA_FLAGS)
    static let ifaCacheInfo = UInt16(IFA_CACHEINFO)

    // route attributes
    static let rtaDst = UInt16(RTA_DST.rawValue)
    static let rtaOif = UInt16(RTA_OIF.rawValue)
    static let rtaGateway = UInt16(RTA_GATEWAY.rawValue)
    static let rtaPriority = UInt16(RTA_PRIORITY.rawValue)
    static let rtaMetrics = UInt16(RTA_METRICS.rawValue)
    static let rtaTable = UInt16(RTA_TABLE.rawValue)
    static let rtaPrefsrc = UInt16(RTA_PREFSRC.rawValue)
    static let rtaxMTU = UInt16(RTAX_MTU)
    static let rtaxAdvmss = UInt16(RTAX_ADVMSS)
    static let protoBoot = UInt8(RTPROT_BOOT)

    // families
    static let afUnspec = UInt8(AF_UNSPEC)
    static let afInet = UInt8(AF_INET)
    static let afInet6 = UInt8(AF_INET6)

}

extension IPFamily {
    /// AF_INET / AF_INET6 as the one-byte family field of ifaddrmsg and rtmsg.
    var netlinkFamily: UInt8 { self == .v4 ? K.afInet : K.afInet6 }
}
