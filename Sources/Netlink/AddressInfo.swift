import NetTypes

/// One interface address as RTM_NEWADDR describes it.
public struct AddressInfo: Sendable, Equatable {
    public var index: Int32
    public var prefix: IPPrefix     // IFA_LOCAL if present (IPv4 peer setups), else IFA_ADDRESS
    public var flags: AddressFlags  // IFA_FLAGS if present (it holds the bits above 8), else ifa_flags
    public var scope: RouteScope
    /// Derived from `flags`, never stored.
    public var isTentative: Bool { flags.contains(.tentative) }   // IPv6 DAD still running
    public var isDADFailed: Bool { flags.contains(.dadFailed) }

    public init(index: Int32, prefix: IPPrefix, flags: AddressFlags = [], scope: RouteScope = .universe) {
        self.index = index
        self.prefix = prefix
        self.flags = flags
        self.scope = scope
    }
}
