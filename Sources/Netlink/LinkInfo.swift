import NetTypes

/// One interface as RTM_NEWLINK describes it.
public struct LinkInfo: Sendable, Equatable {
    public var index: Int32
    /// String, not InterfaceName: the kernel reports names our stricter rule refuses (non-ASCII, control bytes).
    public var name: String
    public var kind: LinkKind?                       // IFLA_INFO_KIND (+ IFLA_MACVLAN_MODE for the macvlan family)
    public var macvlanBroadcastQueueLength: UInt32?  // IFLA_MACVLAN_BC_QUEUE_LEN if present
    public var macvlanBroadcastCutoff: Int32?        // IFLA_MACVLAN_BC_CUTOFF; the kernel omits the default (1)
    public var mac: MACAddress?                      // IFLA_ADDRESS when it is 6 bytes
    public var permanentMac: MACAddress?             // IFLA_PERM_ADDRESS: the NIC's burned-in address, if it has one
    public var transmitQueues: UInt32?               // IFLA_NUM_TX_QUEUES
    public var receiveQueues: UInt32?                // IFLA_NUM_RX_QUEUES
    public var mtu: UInt32
    public var flags: InterfaceFlags                 // ifi_flags
    public var hardwareType: HardwareType            // ifi_type
    public var parentIndex: Int32?                   // IFLA_LINK
    public var linkNetnsID: Int32?                   // IFLA_LINK_NETNSID: the parent lives in another namespace
    public var txQueueLength: UInt32                 // IFLA_TXQLEN
    public var operState: UInt8                      // IFLA_OPERSTATE (IF_OPER_UP = 6)
    public var alias: String?                        // IFLA_IFALIAS (`ip link set DEV alias TEXT`)

    public init(index: Int32, name: String, kind: LinkKind? = nil,
                macvlanBroadcastQueueLength: UInt32? = nil, mac: MACAddress? = nil, mtu: UInt32 = 0,
                flags: InterfaceFlags = [], hardwareType: HardwareType = 0, parentIndex: Int32? = nil, linkNetnsID: Int32? = nil,
                txQueueLength: UInt32 = 0, operState: UInt8 = 0) {
        self.index = index
        self.name = name
        self.kind = kind
        self.macvlanBroadcastQueueLength = macvlanBroadcastQueueLength
        self.mac = mac
        self.mtu = mtu
        self.flags = flags
        self.hardwareType = hardwareType
        self.parentIndex = parentIndex
        self.linkNetnsID = linkNetnsID
        self.txQueueLength = txQueueLength
        self.operState = operState
    }

    /// Derived from `flags`, never stored: they cannot go stale when the flags change.
    public var isUp: Bool { flags.contains(.up) } // IFF_UP (administrative)
    public var isLoopback: Bool { flags.contains(.loopback) }
}
