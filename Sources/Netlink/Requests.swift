import CMnl
import Glibc
import NetTypes

/// Encoders for every request RouteSocket sends, separate from the socket so tests (and tools) can inspect the
/// exact bytes. Each returns one complete netlink message with NLM_F_REQUEST|NLM_F_ACK and the given sequence
/// number; the port id stays 0 (the kernel fills in the sender).
public enum RouteRequest {
    static let requestAck = K.flagRequest | K.flagAck

    // MARK: links

    /// RTM_GETLINK for one interface by name (IFLA_IFNAME), statistics skipped.
    public static func getLink(named name: InterfaceName, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let b = linkMessage(K.getLink, flags: requestAck, sequence: sequence, index: 0)
        b.putString(K.iflaIfname, name.text)
        b.putU32(K.iflaExtMask, K.extFilterSkipStats)
        return try finish(b, operation: "look up link \(name)")
    }

    /// RTM_GETLINK for one interface by index.
    public static func getLink(index: Int32, sequence: UInt32) -> [UInt8] {
        let b = linkMessage(K.getLink, flags: requestAck, sequence: sequence, index: index)
        b.putU32(K.iflaExtMask, K.extFilterSkipStats)
        return b.bytes
    }

    /// RTM_GETLINK dump of every interface.
    public static func dumpLinks(sequence: UInt32) -> [UInt8] {
        let b = linkMessage(K.getLink, flags: requestAck | K.flagDump, sequence: sequence, index: 0)
        b.putU32(K.iflaExtMask, K.extFilterSkipStats)
        return b.bytes
    }

    /// One RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL that creates the child complete: name, parent, mode, and the
    /// optional MAC, MTU, broadcast queue length and target namespace.
    public static func newMacvlan(_ r: MacvlanRequest, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let operation = "create \(r.device.rawValue) link \(r.name) on parent index \(r.parentIndex)"
        let upFlag: InterfaceFlags = r.up ? .up : []
        let b = linkMessage(K.newLink, flags: requestAck | K.flagCreate | K.flagExclusive, sequence: sequence,
                            index: 0, ifFlags: upFlag, change: upFlag)
        b.putString(K.iflaIfname, r.name.text)
        b.putU32(K.iflaLink, UInt32(bitPattern: r.parentIndex))
        if let mac = r.mac { b.putBytes(K.iflaAddress, mac.bytes) }
        if let mtu = r.mtu { b.putU32(K.iflaMTU, mtu) }
        if let queues = r.transmitQueues { b.putU32(K.iflaNumTxQueues, queues) }
        if let queues = r.receiveQueues { b.putU32(K.iflaNumRxQueues, queues) }
        if let fd = r.namespaceFD { b.putU32(K.iflaNetNsFD, UInt32(bitPattern: fd)) }
        b.nest(K.iflaLinkinfo) {
            b.putString(K.iflaInfoKind, r.device.rawValue)
            b.nest(K.iflaInfoData) {
                b.putU32(K.iflaMacvlanMode, r.mode.rawValue)
                if let q = r.broadcastQueueLength { b.putU32(K.iflaMacvlanBcQueueLen, q) }
                if let cutoff = r.broadcastCutoff { b.putU32(K.iflaMacvlanBcCutoff, UInt32(bitPattern: cutoff)) }
            }
        }
        return try finish(b, operation: operation)
    }

    /// RTM_DELLINK by index.
    public static func deleteLink(index: Int32, sequence: UInt32) -> [UInt8] {
        linkMessage(K.delLink, flags: requestAck, sequence: sequence, index: index).bytes
    }

    /// RTM_SETLINK carrying only a new IFLA_IFNAME (the link must be down, as a fresh one is).
    /// RTM_SETLINK with a new IFLA_IFNAME; with `up`, IFF_UP too: the kernel renames before it changes flags,
    /// so one message does both (a link cannot be renamed once it is up).
    public static func renameLink(index: Int32, to name: InterfaceName, up: Bool = false, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let operation = "rename link index \(index) to \(name)"
        let upFlag: InterfaceFlags = up ? .up : []
        let b = linkMessage(K.setLink, flags: requestAck, sequence: sequence, index: index, ifFlags: upFlag, change: upFlag)
        b.putString(K.iflaIfname, name.text)
        return try finish(b, operation: operation)
    }

    /// RTM_SETLINK carrying only IFLA_IFALIAS (the kernel ignores an alias in the RTM_NEWLINK that creates a link).
    public static func setAlias(index: Int32, _ alias: String, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let operation = "set the alias of link index \(index)"
        guard alias.utf8.count < 256, !alias.utf8.contains(0) else {   // IFALIASZ
            throw NetlinkError(kind: .invalid, errno: EINVAL, operation: operation, kernelMessage: "alias must be below 256 bytes")
        }
        let b = linkMessage(K.setLink, flags: requestAck, sequence: sequence, index: index)
        b.putString(K.iflaIfalias, alias)
        return try finish(b, operation: operation)
    }

    /// RTM_SETLINK applying a LinkChange (see there for what the kernel does in which order).
    public static func changeLink(_ c: LinkChange, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let operation = "change link index \(c.index): \(c.summary)"
        let flags = c.flags
        let b = linkMessage(K.setLink, flags: requestAck, sequence: sequence, index: c.index, ifFlags: flags.set, change: flags.change)
        if let fd = c.namespaceFD { b.putU32(K.iflaNetNsFD, UInt32(bitPattern: fd)) }
        if let name = c.name { b.putString(K.iflaIfname, name.text) }
        if let mac = c.mac { b.putBytes(K.iflaAddress, mac.bytes) }
        if let mtu = c.mtu { b.putU32(K.iflaMTU, mtu) }
        return try finish(b, operation: operation)
    }

    /// RTM_SETLINK changing only IFF_UP (ifi_change masks every other flag).
    public static func setLinkUp(index: Int32, _ up: Bool, sequence: UInt32) -> [UInt8] {
        linkMessage(K.setLink, flags: requestAck, sequence: sequence, index: index,
                    ifFlags: up ? .up : [], change: .up).bytes
    }

    // MARK: addresses

    /// RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL: IFA_LOCAL and IFA_ADDRESS both set to the address (as `ip addr
    /// add` sends them), and for IPv4 below /31 the network's broadcast address (`brd +`). Non-empty `flags` go
    /// in IFA_FLAGS (the 32-bit field; the DAD flags only for IPv6: `ip addr add ... nodad` / `optimistic`).
    public static func newAddress(_ prefix: IPPrefix, index: Int32, flags: AddressFlags = [], sequence: UInt32) -> [UInt8] {
        let b = addressMessage(prefix, index: index, flags: requestAck | K.flagCreate | K.flagExclusive, sequence: sequence)
        let flags = prefix.family == .v6 ? flags : flags.subtracting([.nodad, .optimistic])
        if !flags.isEmpty { b.putU32(K.ifaFlags, flags.rawValue) }
        return b.bytes
    }

    /// RTM_NEWADDR's header and address attributes, as `ip addr add` sends them.
    private static func addressMessage(_ prefix: IPPrefix, index: Int32, flags: UInt16, sequence: UInt32) -> MessageBuilder {
        let b = MessageBuilder(type: K.newAddr, flags: flags, sequence: sequence)
        var header = ifaddrmsg()
        header.ifa_family = prefix.family.netlinkFamily
        header.ifa_prefixlen = UInt8(prefix.prefixLength)
        header.ifa_scope = RouteScope.universe.rawValue
        header.ifa_index = UInt32(bitPattern: index)
        b.putFamilyHeader(header)
        b.putBytes(K.ifaLocal, prefix.address.bytes)
        b.putBytes(K.ifaAddress, prefix.address.bytes)
        if prefix.family == .v4 && prefix.prefixLength < 31 {
            b.putBytes(K.ifaBroadcast, broadcast(of: prefix).bytes)
        }
        return b
    }

    /// RTM_NEWADDR with NLM_F_CREATE|NLM_F_REPLACE and IFA_CACHEINFO: gives an address (added if absent) valid
    /// and preferred lifetimes in seconds; the kernel removes it when the valid one runs out. Replacing touches
    /// only lifetime, metric and protocol of an existing address, so routes through it stay.
    public static func setAddressLifetime(_ prefix: IPPrefix, index: Int32, valid: UInt32, preferred: UInt32,
                                          sequence: UInt32) -> [UInt8] {
        let b = addressMessage(prefix, index: index, flags: requestAck | K.flagCreate | K.flagReplace, sequence: sequence)
        var info = ifa_cacheinfo()
        info.ifa_valid = valid
        info.ifa_prefered = min(preferred, valid)
        b.putBytes(K.ifaCacheInfo, withUnsafeBytes(of: info) { Array($0) })
        return b.bytes
    }

    /// RTM_GETADDR dump; `family` nil dumps both.
    public static func dumpAddresses(family: IPFamily?, sequence: UInt32) -> [UInt8] {
        var header = ifaddrmsg()
        header.ifa_family = family?.netlinkFamily ?? K.afUnspec
        return dump(K.getAddr, header, sequence: sequence)
    }

    // MARK: routes

    /// RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL, protocol boot, type unicast, destination masked.
    public static func newRoute(_ spec: RouteSpec, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let family = spec.destination.family
        try checkFamilies(spec, operation: "add route \(spec.destination)")
        let b = MessageBuilder(type: K.newRoute, flags: requestAck | K.flagCreate | K.flagExclusive,
                               sequence: sequence)
        let table = spec.effectiveTable
        var header = rtmsg()
        header.rtm_family = family.netlinkFamily
        header.rtm_dst_len = UInt8(spec.destination.prefixLength)
        header.rtm_table = UInt8(table.rawValue < 256 ? table.rawValue : RouteTable.unspecified.rawValue)
        header.rtm_protocol = K.protoBoot
        header.rtm_scope = spec.effectiveScope.rawValue
        header.rtm_type = RouteType.unicast.rawValue
        b.putFamilyHeader(header)
        if spec.destination.prefixLength > 0 {
            b.putBytes(K.rtaDst, spec.destination.network.address.bytes)
        }
        if let gateway = spec.gateway { b.putBytes(K.rtaGateway, gateway.bytes) }
        if let source = spec.source { b.putBytes(K.rtaPrefsrc, source.bytes) }
        b.putU32(K.rtaOif, UInt32(bitPattern: spec.outputIndex))
        if let priority = spec.priority { b.putU32(K.rtaPriority, priority) }
        b.putU32(K.rtaTable, table.rawValue)
        if spec.mtu != nil || spec.advmss != nil {
            b.nest(K.rtaMetrics) {
                if let mtu = spec.mtu { b.putU32(K.rtaxMTU, mtu) }
                if let advmss = spec.advmss { b.putU32(K.rtaxAdvmss, advmss) }
            }
        }
        return try finish(b, operation: "add route \(spec.destination)")
    }

    /// RTM_DELROUTE for the route `spec` describes: destination, output interface, table, and the gateway and
    /// metric when given. Scope RT_SCOPE_NOWHERE and type 0 match any (as `ip route del` sends them).
    public static func deleteRoute(_ spec: RouteSpec, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let operation = "delete route \(spec.destination)"
        try checkFamilies(spec, operation: operation)
        let b = MessageBuilder(type: K.delRoute, flags: requestAck, sequence: sequence)
        let table = spec.effectiveTable
        var header = rtmsg()
        header.rtm_family = spec.destination.family.netlinkFamily
        header.rtm_dst_len = UInt8(spec.destination.prefixLength)
        header.rtm_table = UInt8(table.rawValue < 256 ? table.rawValue : RouteTable.unspecified.rawValue)
        header.rtm_scope = RouteScope.nowhere.rawValue
        b.putFamilyHeader(header)
        if spec.destination.prefixLength > 0 {
            b.putBytes(K.rtaDst, spec.destination.network.address.bytes)
        }
        if let gateway = spec.gateway { b.putBytes(K.rtaGateway, gateway.bytes) }
        b.putU32(K.rtaOif, UInt32(bitPattern: spec.outputIndex))
        if let priority = spec.priority { b.putU32(K.rtaPriority, priority) }
        b.putU32(K.rtaTable, table.rawValue)
        return try finish(b, operation: operation)
    }

    /// Gateway and source must be of the destination's family (the kernel's message for a mismatch is vague).
    private static func checkFamilies(_ spec: RouteSpec, operation: String) throws(NetlinkError) {
        for (what, address) in [("gateway", spec.gateway), ("source", spec.source)] {
            if let address, address.family != spec.destination.family {
                throw NetlinkError(kind: .invalid, errno: EINVAL, operation: operation,
                                   kernelMessage: "\(what) \(address) is not of the destination's family")
            }
        }
    }

    /// RTM_GETROUTE dump of every table; `family` nil dumps both IPv4 and IPv6 (and whatever else exists).
    public static func dumpRoutes(family: IPFamily?, sequence: UInt32) -> [UInt8] {
        var header = rtmsg()
        header.rtm_family = family?.netlinkFamily ?? K.afUnspec
        return dump(K.getRoute, header, sequence: sequence)
    }

    /// A dump request: the message type and its family header, nothing else.
    private static func dump<Header: BitwiseCopyable>(_ type: UInt16, _ header: Header, sequence: UInt32) -> [UInt8] {
        let b = MessageBuilder(type: type, flags: requestAck | K.flagDump, sequence: sequence)
        b.putFamilyHeader(header)
        return b.bytes
    }

    // MARK: helpers

    private static func linkMessage(_ type: UInt16, flags: UInt16, sequence: UInt32, index: Int32,
                                    ifFlags: InterfaceFlags = [], change: InterfaceFlags = []) -> MessageBuilder {
        let b = MessageBuilder(type: type, flags: flags, sequence: sequence)
        var header = ifinfomsg()
        header.ifi_family = K.afUnspec
        header.ifi_index = index
        header.ifi_flags = ifFlags.rawValue
        header.ifi_change = change.rawValue
        b.putFamilyHeader(header)
        return b
    }

    private static func finish(_ b: MessageBuilder, operation: String) throws(NetlinkError) -> [UInt8] {
        guard !b.overflowed else {
            throw NetlinkError(kind: .invalid, errno: EMSGSIZE, operation: operation)
        }
        return b.bytes
    }

    static func broadcast(of prefix: IPPrefix) -> IPAddress {
        var bytes = prefix.address.bytes
        for i in 0..<bytes.count {
            let bitsBefore = i * 8
            if bitsBefore >= prefix.prefixLength { bytes[i] = 0xFF }
            else if bitsBefore + 8 > prefix.prefixLength {
                bytes[i] |= UInt8(truncatingIfNeeded: 0xFF >> (prefix.prefixLength - bitsBefore))
            }
        }
        return IPAddress(bytes: bytes)!
    }
}
