import NetTypes

/// One route as RTM_NEWROUTE describes it (any table).
public struct RouteInfo: Sendable, Equatable {
    public var destination: IPPrefix     // the all-zero network of the family when RTA_DST is absent
    public var gateway: IPAddress?
    public var source: IPAddress?        // RTA_PREFSRC
    public var outputIndex: Int32?       // nil for multipath or blackhole routes
    public var priority: UInt32          // 0 if absent
    public var table: RouteTable             // RTA_TABLE if present, else rtm_table
    public var scope: RouteScope
    public var type: RouteType           // rtm_type
    public var protocolID: UInt8         // rtm_protocol
    public var mtu: UInt32?
    public var advmss: UInt32?

    public init(destination: IPPrefix, gateway: IPAddress? = nil, outputIndex: Int32? = nil, priority: UInt32 = 0,
                table: RouteTable = .main, scope: RouteScope = .universe, type: RouteType = .unicast,
                protocolID: UInt8 = 0, mtu: UInt32? = nil, advmss: UInt32? = nil) {
        self.destination = destination
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.priority = priority
        self.table = table
        self.scope = scope
        self.type = type
        self.protocolID = protocolID
        self.mtu = mtu
        self.advmss = advmss
    }
}
