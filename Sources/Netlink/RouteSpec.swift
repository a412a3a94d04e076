import NetTypes

/// A route to add. Defaults follow `ip route add`: main table, universe scope with a gateway, link scope without.
public struct RouteSpec: Sendable, Equatable {
    public var destination: IPPrefix     // sent masked (network form)
    public var gateway: IPAddress?
    public var source: IPAddress?        // RTA_PREFSRC: the source address the host picks for this route
    public var outputIndex: Int32        // RTA_OIF
    public var priority: UInt32?         // RTA_PRIORITY (metric)
    public var table: RouteTable?            // RTA_TABLE; rtm_table carries it too when < 256
    public var scope: RouteScope?            // rtm_scope
    public var mtu: UInt32?              // RTA_METRICS / RTAX_MTU
    public var advmss: UInt32?           // RTA_METRICS / RTAX_ADVMSS

    public init(destination: IPPrefix, gateway: IPAddress?, outputIndex: Int32) {
        self.destination = destination
        self.gateway = gateway
        self.outputIndex = outputIndex
    }

    /// The scope the request will carry.
    public var effectiveScope: RouteScope { scope ?? (gateway == nil ? .link : .universe) }
    /// The table the request will carry.
    public var effectiveTable: RouteTable { table ?? .main }
}
