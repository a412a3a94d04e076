import CMnl
import NetTypes

// Parsers for single RTM_NEWLINK / RTM_NEWADDR / RTM_NEWROUTE messages (nlmsghdr included), as they come out of
// `parseReplies`. Each returns nil for anything that is not a well-formed message of its kind; none of them
// reads outside the given bytes, whatever they contain.

/// The message's family header and attribute region, after checking nlmsg_len against the buffer.
private func withMessage<Header: BitwiseCopyable, R>(
    _ bytes: [UInt8], types: ClosedRange<UInt16>, header: Header.Type,
    _ body: (Header, UnsafeRawBufferPointer) -> R?
) -> R? {
    bytes.withUnsafeBytes { raw -> R? in
        let hdrSize = MemoryLayout<nlmsghdr>.size
        let familySize = (MemoryLayout<Header>.size + 3) & ~3   // NLMSG_ALIGN of the family header
        guard raw.count >= hdrSize else { return nil }
        let h = raw.loadUnaligned(as: nlmsghdr.self)
        let length = Int(h.nlmsg_len)
        guard types.contains(h.nlmsg_type), length >= hdrSize + MemoryLayout<Header>.size,
              length <= raw.count else { return nil }
        let family = raw.loadUnaligned(fromByteOffset: hdrSize, as: Header.self)
        let attributeStart = min(hdrSize + familySize, length)
        return body(family, UnsafeRawBufferPointer(rebasing: raw[attributeStart..<length]))
    }
}

/// RTM_NEWLINK (or RTM_DELLINK) → LinkInfo; nil without an index or a name.
public func parseLinkMessage(_ bytes: [UInt8]) -> LinkInfo? {
    withMessage(bytes, types: K.newLink...K.delLink, header: ifinfomsg.self) { ifi, region -> LinkInfo? in
        let attrs = Attributes.table(in: region)
        guard let nameAttr = attrs[K.iflaIfname], ifi.ifi_index > 0 else { return nil }
        var link = LinkInfo(index: ifi.ifi_index, name: nameAttr.string, flags: InterfaceFlags(rawValue: ifi.ifi_flags),
                            hardwareType: HardwareType(rawValue: ifi.ifi_type))
        link.mac = attrs[K.iflaAddress].flatMap { MACAddress(bytes: $0.byteArray) }
        link.mtu = attrs[K.iflaMTU]?.u32 ?? 0
        link.permanentMac = attrs[K.iflaPermAddress].flatMap { MACAddress(bytes: $0.byteArray) }
        link.transmitQueues = attrs[K.iflaNumTxQueues]?.u32
        link.receiveQueues = attrs[K.iflaNumRxQueues]?.u32
        link.parentIndex = attrs[K.iflaLink]?.i32
        link.linkNetnsID = attrs[K.iflaLinkNetnsid]?.i32
        link.txQueueLength = attrs[K.iflaTxqlen]?.u32 ?? 0
        link.operState = attrs[K.iflaOperstate]?.u8 ?? 0
        link.alias = attrs[K.iflaIfalias]?.string
        if let info = attrs[K.iflaLinkinfo] {
            let infoAttrs = Attributes.table(in: info)
            if let name = infoAttrs[K.iflaInfoKind]?.string {
                var mode: UInt32?
                if MacvlanDevice(rawValue: name) != nil, let data = infoAttrs[K.iflaInfoData] {
                    let dataAttrs = Attributes.table(in: data)
                    mode = dataAttrs[K.iflaMacvlanMode]?.u32
                    link.macvlanBroadcastQueueLength = dataAttrs[K.iflaMacvlanBcQueueLen]?.u32
                    link.macvlanBroadcastCutoff = dataAttrs[K.iflaMacvlanBcCutoff]?.i32
                }
                link.kind = LinkKind(name: name, macvlanMode: mode)
            }
        }
        return link
    }
}

/// RTM_NEWADDR → AddressInfo; nil for families other than IPv4/IPv6 or without an address.
public func parseAddressMessage(_ bytes: [UInt8]) -> AddressInfo? {
    withMessage(bytes, types: K.newAddr...K.delAddr, header: ifaddrmsg.self) { ifa, region -> AddressInfo? in
        let attrs = Attributes.table(in: region)
        guard let family = family(ifa.ifa_family) else { return nil }
        // IPv4 peer setups put the local address in IFA_LOCAL and the peer in IFA_ADDRESS.
        guard let raw = attrs[K.ifaLocal] ?? attrs[K.ifaAddress],
              let address = IPAddress(bytes: raw.byteArray), address.family == family,
              let prefix = IPPrefix(address: address, prefixLength: Int(ifa.ifa_prefixlen)) else { return nil }
        let flags = AddressFlags(rawValue: attrs[K.ifaFlags]?.u32 ?? UInt32(ifa.ifa_flags))
        return AddressInfo(index: Int32(bitPattern: ifa.ifa_index), prefix: prefix, flags: flags,
                           scope: RouteScope(rawValue: ifa.ifa_scope))
    }
}

/// RTM_NEWROUTE → RouteInfo; nil for families other than IPv4/IPv6 or inconsistent lengths.
public func parseRouteMessage(_ bytes: [UInt8]) -> RouteInfo? {
    withMessage(bytes, types: K.newRoute...K.delRoute, header: rtmsg.self) { rtm, region -> RouteInfo? in
        let attrs = Attributes.table(in: region)
        guard let family = family(rtm.rtm_family) else { return nil }
        let zero = IPAddress(bytes: [UInt8](repeating: 0, count: family == .v4 ? 4 : 16))!
        var destinationAddress = zero
        if let raw = attrs[K.rtaDst] {
            guard let a = IPAddress(bytes: raw.byteArray), a.family == family else { return nil }
            destinationAddress = a
        }
        guard let destination = IPPrefix(address: destinationAddress, prefixLength: Int(rtm.rtm_dst_len))
        else { return nil }
        var route = RouteInfo(destination: destination,
                              table: RouteTable(rawValue: attrs[K.rtaTable]?.u32 ?? UInt32(rtm.rtm_table)),
                              scope: RouteScope(rawValue: rtm.rtm_scope), type: RouteType(rawValue: rtm.rtm_type), protocolID: rtm.rtm_protocol)
        route.gateway = attrs[K.rtaGateway].flatMap { IPAddress(bytes: $0.byteArray) }
        route.source = attrs[K.rtaPrefsrc].flatMap { IPAddress(bytes: $0.byteArray) }
        route.outputIndex = attrs[K.rtaOif]?.i32
        route.priority = attrs[K.rtaPriority]?.u32 ?? 0
        if let metrics = attrs[K.rtaMetrics] {
            let m = Attributes.table(in: metrics)
            route.mtu = m[K.rtaxMTU]?.u32
            route.advmss = m[K.rtaxAdvmss]?.u32
        }
        return route
    }
}

private func family(_ value: UInt8) -> IPFamily? {
    switch value {
    case K.afInet: return .v4
    case K.afInet6: return .v6
    default: return nil
    }
}
