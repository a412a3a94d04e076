/// The macvlan family's modes with their kernel values (IFLA_MACVLAN_MODE; the kernel defaults to VEPA when the
/// attribute is missing, so requests always carry one).
public enum MacvlanMode: UInt32, CaseIterable, Sendable {
    case `private` = 1, vepa = 2, bridge = 4, passthru = 8, source = 16
}

/// The link kinds of the macvlan family, by their IFLA_INFO_KIND names.
public enum MacvlanDevice: String, CaseIterable, Sendable {
    case macvlan, macvtap
}

/// A link's kind as the kernel reports it (IFLA_INFO_KIND), typed for the macvlan family with its mode.
public enum LinkKind: Equatable, Sendable, CustomStringConvertible {
    /// A macvlan or macvtap; the mode is nil when the kernel sent none (or one this code does not know).
    case macvlanFamily(MacvlanDevice, mode: MacvlanMode?)
    case other(String)

    public init(name: String, macvlanMode: UInt32?) {
        if let device = MacvlanDevice(rawValue: name) {
            self = .macvlanFamily(device, mode: macvlanMode.flatMap(MacvlanMode.init(rawValue:)))
        } else {
            self = .other(name)
        }
    }

    public var description: String {
        switch self {
        case let .macvlanFamily(device, _): device.rawValue
        case let .other(name): name
        }
    }

    public var macvlanDevice: MacvlanDevice? { if case let .macvlanFamily(device, _) = self { device } else { nil } }
    public var macvlanMode: MacvlanMode? { if case let .macvlanFamily(_, mode) = self { mode } else { nil } }
}
