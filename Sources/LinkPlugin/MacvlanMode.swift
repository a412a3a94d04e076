import Netlink

/// The macvlan modes by the names the config uses ("bridge", "private", ...), decoded once; the type and its
/// kernel values are Netlink's `MacvlanMode`.
extension MacvlanMode {
    public var configName: String {
        switch self {
        case .bridge: "bridge"
        case .private: "private"
        case .vepa: "vepa"
        case .passthru: "passthru"
        case .source: "source"
        }
    }

    public init?(configName: String) {
        guard let mode = Self.allCases.first(where: { $0.configName.bytesEqual(configName) }) else { return nil }
        self = mode
    }
}
