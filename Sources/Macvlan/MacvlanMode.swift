import Netlink

/// The macvlan modes, decoded once from the config and always sent to the kernel (which would otherwise
/// create a VEPA child).
public enum MacvlanMode: String, CaseIterable, Sendable {
    case bridge, `private`, vepa, passthru, source

    public var kernelValue: UInt32 {
        switch self {
        case .bridge: MacvlanKernelMode.bridge
        case .private: MacvlanKernelMode.private_
        case .vepa: MacvlanKernelMode.vepa
        case .passthru: MacvlanKernelMode.passthru
        case .source: MacvlanKernelMode.source
        }
    }

    public init?(kernelValue: UInt32) {
        guard let mode = MacvlanMode.allCases.first(where: { $0.kernelValue == kernelValue }) else { return nil }
        self = mode
    }
}
