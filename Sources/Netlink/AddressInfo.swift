import NetTypes

/// One interface address as RTM_NEWADDR describes it.
public struct AddressInfo: Sendable, Equatable {
    public var index: Int32
    public var prefix: IPPrefix     // IFA_LOCAL if present (IPv4 peer setups), else IFA_ADDRESS
    public var flags: UInt32        // IFA_FLAGS if present (it holds the bits above 8), else ifa_flags
    public var scope: UInt8
    /// Derived from `flags`, never stored.
    public var isTentative: Bool { flags & AddressFlags.tentative != 0 }   // IPv6 DAD still running
    public var isDADFailed: Bool { flags & AddressFlags.dadFailed != 0 }

    public init(index: Int32, prefix: IPPrefix, flags: UInt32 = 0, scope: UInt8 = 0) {
        self.index = index
        self.prefix = prefix
        self.flags = flags
        self.scope = scope
    }
}
