import NetTypes

/// Everything one RTM_NEWLINK needs to create a macvlan (or macvtap) child.
public struct MacvlanRequest: Sendable, Equatable {
    public var device: MacvlanDevice = .macvlan  // IFLA_INFO_KIND
    public var name: InterfaceName
    public var parentIndex: Int32                // IFLA_LINK, an index in the socket's namespace
    public var mode: MacvlanMode                 // IFLA_MACVLAN_MODE: always sent, the kernel defaults to VEPA
    public var mac: MACAddress?                  // IFLA_ADDRESS
    public var mtu: UInt32?                      // IFLA_MTU
    public var broadcastQueueLength: UInt32?     // IFLA_MACVLAN_BC_QUEUE_LEN (kernel >= 5.11)
    public var broadcastCutoff: Int32?           // IFLA_MACVLAN_BC_CUTOFF (kernel >= 6.8; -1 disables queueing)
    public var transmitQueues: UInt32?           // IFLA_NUM_TX_QUEUES, only settable at creation
    public var receiveQueues: UInt32?            // IFLA_NUM_RX_QUEUES, only settable at creation
    public var namespaceFD: Int32?               // IFLA_NET_NS_FD: create straight into that namespace
    public var up = false                        // IFF_UP in ifi_flags/ifi_change: up from creation (`ip link add … up`)

    public init(name: InterfaceName, parentIndex: Int32, mode: MacvlanMode) {
        self.name = name
        self.parentIndex = parentIndex
        self.mode = mode
    }
}
