import CMnl
import Glibc
import NetTypes

// The C headers import their constants with assorted types (anonymous enums as Int, macros as Int32, named
// enums as structs with .rawValue). Everything is converted here, once, to the width netlink carries.

/// rtm_scope values.
public enum RouteScope {
    public static let universe = UInt8(RT_SCOPE_UNIVERSE.rawValue)
    public static let site = UInt8(RT_SCOPE_SITE.rawValue)
    public static let link = UInt8(RT_SCOPE_LINK.rawValue)
    public static let host = UInt8(RT_SCOPE_HOST.rawValue)
    public static let nowhere = UInt8(RT_SCOPE_NOWHERE.rawValue)
}

/// Routing table ids.
public enum RouteTable {
    public static let unspecified = UInt32(RT_TABLE_UNSPEC.rawValue)
    public static let main = UInt32(RT_TABLE_MAIN.rawValue)
    public static let local = UInt32(RT_TABLE_LOCAL.rawValue)
}

/// rtm_type values.
public enum RouteType {
    public static let unicast = UInt8(RTN_UNICAST)
    public static let local = UInt8(RTN_LOCAL)
    public static let broadcast = UInt8(RTN_BROADCAST)
    public static let multicast = UInt8(RTN_MULTICAST)
    public static let unreachable = UInt8(RTN_UNREACHABLE)
}

/// Interface and address flags the plugin looks at.
public enum InterfaceFlags {
    // From linux/if.h, which cannot be included next to glibc's net/if.h.
    public static let up: UInt32 = 0x1
    public static let loopback: UInt32 = 0x8
    public static let promiscuous: UInt32 = 0x100
    public static let lowerUp: UInt32 = 0x10000
}

public enum AddressFlags {
    public static let tentative = UInt32(IFA_F_TENTATIVE)
    public static let dadFailed = UInt32(IFA_F_DADFAILED)
    public static let nodad = UInt32(IFA_F_NODAD)
    public static let permanent = UInt32(IFA_F_PERMANENT)
}

/// ARPHRD_* values of ifi_type.
public enum HardwareType {
    public static let ether: UInt16 = 1
    public static let loopback: UInt16 = 772
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
    static let iflaInfoKind = UInt16(IFLA_INFO_KIND)
    static let iflaInfoData = UInt16(IFLA_INFO_DATA)
    static let iflaMacvlanMode = UInt16(IFLA_MACVLAN_MODE)
    static let iflaMacvlanBcQueueLen = UInt16(IFLA_MACVLAN_BC_QUEUE_LEN)
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
