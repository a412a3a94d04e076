import CNI
import Namespace
import NetTypes

/// The `ipv6` object: router advertisements, SLAAC and duplicate address detection on the new interface.
/// Its sysctls are written in the container before the link comes up, so the kernel never acts on an RA or
/// starts DAD under the defaults first (no stray SLAAC address, no DAD wait that the config turned off).
public struct IPv6Settings: Sendable, Equatable {
    public enum DAD: String, Sendable, CaseIterable {
        /// The kernel's DAD; ADD waits (bounded) until the addresses are no longer tentative.
        case wait
        /// optimistic_dad: addresses are usable while DAD runs (RFC 4429); ADD does not wait.
        case optimistic
        /// accept_dad=0: no DAD at all; ADD does not wait.
        case off

        /// Whether ADD waits for DAD to finish before it adds routes and reports the addresses.
        public var waits: Bool { self == .wait }
    }

    public var acceptRA: Bool?
    public var autoconf: Bool?
    public var dad: DAD = .wait

    static let keys = ["acceptRA", "autoconf", "dad"]

    public init(acceptRA: Bool? = nil, autoconf: Bool? = nil, dad: DAD = .wait) {
        self.acceptRA = acceptRA
        self.autoconf = autoconf
        self.dad = dad
    }

    /// Reads `ipv6`; nil when absent. Unknown keys and bad values are code 7 naming key and value.
    public init?(reading config: ConfigReader) throws(CNIError) {
        guard let reader = try config.reader("ipv6") else { return nil }
        if let unknown = reader.object.keys(notAmong: Self.keys).first {
            throw CNIError(.invalidConfig, "\"\(reader.path).\(unknown)\" is not an IPv6 setting", details: "use \(Self.keys.joined(separator: ", "))")
        }
        acceptRA = try reader.bool("acceptRA")
        autoconf = try reader.bool("autoconf")
        if let text = try reader.string("dad") {
            guard let dad = DAD(rawValue: text) else {
                throw CNIError(.invalidConfig, "\"\(reader.name("dad"))\" \"\(text)\" is not a DAD mode",
                               details: "use one of \(DAD.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.dad = dad
        }
    }

    /// The per-interface sysctls, all required: a config that asks for them on a container without IPv6 is an
    /// error, not silently ignored.
    public func sysctls(ifName: InterfaceName) -> [SysctlSetting] {
        var settings: [SysctlSetting] = []
        if let acceptRA { settings.append(SysctlSetting(.ipv6(interface: ifName, name: "accept_ra"), acceptRA ? "1" : "0")) }
        if let autoconf { settings.append(SysctlSetting(.ipv6(interface: ifName, name: "autoconf"), autoconf ? "1" : "0")) }
        switch dad {
        case .wait: break
        case .optimistic: settings.append(SysctlSetting(.ipv6(interface: ifName, name: "optimistic_dad"), "1"))
        case .off: settings.append(SysctlSetting(.ipv6(interface: ifName, name: "accept_dad"), "0"))
        }
        return settings
    }

}
