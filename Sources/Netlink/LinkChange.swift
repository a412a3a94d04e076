import NetTypes

/// One RTM_SETLINK on an existing link: any of a move to another namespace, a new name, MAC, MTU, and the
/// IFF_PROMISC / IFF_UP flags (only the flags given are changed: ifi_change masks the others). The kernel applies
/// them in this order: namespace, MAC, MTU, name, flags; so one message can move a link and rename it there.
public struct LinkChange: Sendable, Equatable {
    public var index: Int32
    public var namespaceFD: Int32?          // IFLA_NET_NS_FD: move into that namespace (the link goes down)
    public var name: InterfaceName?         // IFLA_IFNAME
    public var mac: MACAddress?             // IFLA_ADDRESS
    public var mtu: UInt32?                 // IFLA_MTU
    public var promiscuous: Bool?           // IFF_PROMISC
    public var up: Bool?                    // IFF_UP

    public init(index: Int32) { self.index = index }

    /// The flags word and its mask for ifinfomsg.
    var flags: (set: InterfaceFlags, change: InterfaceFlags) {
        var set: InterfaceFlags = [], change: InterfaceFlags = []
        if let promiscuous { change.insert(.promiscuous); if promiscuous { set.insert(.promiscuous) } }
        if let up { change.insert(.up); if up { set.insert(.up) } }
        return (set, change)
    }

    /// In words, for messages: "move to the target namespace, rename to eth0, set MTU 1400".
    public var summary: String {
        var parts: [String] = []
        if namespaceFD != nil { parts.append("move to the target namespace") }
        if let name { parts.append("rename to \(name)") }
        if let mac { parts.append("set MAC \(mac)") }
        if let mtu { parts.append("set MTU \(mtu)") }
        if let promiscuous { parts.append(promiscuous ? "promiscuous on" : "promiscuous off") }
        if let up { parts.append(up ? "up" : "down") }
        return parts.isEmpty ? "no change" : parts.joined(separator: ", ")
    }
}
