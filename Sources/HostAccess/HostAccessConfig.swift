import NetTypes

/// The validated `hostAccess` settings: the shim's own addresses (optional) and where the state lives.
public struct HostAccessConfig: Sendable, Equatable {
    /// On tmpfs: the host routes and the shim do not survive a reboot, so neither should the record of them.
    public static let defaultDataDir = "/run/cni/macvlan-host-access"

    /// Host addresses (/32, /128) to put on the shim. With one of a family, the host routes of that family
    /// carry it as `src`, and containers reach the host through it.
    public let addresses: [IPPrefix]
    /// Absolute directory holding the lock and one record per attachment.
    public let dataDir: String

    public init(addresses: [IPPrefix] = [], dataDir: String = defaultDataDir) throws(HostAccessError) {
        for (i, prefix) in addresses.enumerated() {
            if let problem = Self.addressProblem(prefix) {
                throw HostAccessError(.invalidConfig, "\"hostAccess.addresses\" entry \"\(prefix)\" \(problem)",
                                      details: "give single host addresses such as \"10.9.0.254/32\" or \"fd00::fe/128\", reserved for the host (outside every IPAM range)")
            }
            if addresses[..<i].contains(where: { $0.address == prefix.address }) {
                throw HostAccessError(.invalidConfig, "\"hostAccess.addresses\" lists \(prefix.address) twice")
            }
        }
        guard dataDir.isAbsolutePathWithoutParentReference else {
            throw HostAccessError(.invalidConfig, "\"hostAccess.dataDir\" \"\(dataDir)\" must be an absolute path without \"..\"")
        }
        self.addresses = addresses
        self.dataDir = dataDir
    }

    /// The shim address host routes of `family` use as their source, if one is configured.
    public func shimAddress(_ family: IPFamily) -> IPAddress? {
        addresses.first { $0.family == family }?.address
    }

    /// Only host-length prefixes: a shorter one would make the kernel add a subnet route through the shim, which
    /// would take the master's subnet away from the master.
    static func addressProblem(_ prefix: IPPrefix) -> String? {
        if prefix.prefixLength != prefix.address.bitLength {
            return "is not a single address: use /\(prefix.address.bitLength) (a shorter prefix would route the subnet through the shim)"
        }
        let b = prefix.address.bytes
        if prefix.address.isUnspecified { return "is the unspecified address" }
        switch prefix.family {
        case .v4:
            if b[0] == 127 { return "is a loopback address" }
            if b[0] >= 224 { return "is a multicast or reserved address" }
            if b == [255, 255, 255, 255] { return "is the broadcast address" }
        case .v6:
            if b == [UInt8](repeating: 0, count: 15) + [1] { return "is the loopback address" }
            if b[0] == 0xff { return "is a multicast address" }
            if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return "is a link-local address (the shim has its own)" }
        }
        return nil
    }
}
