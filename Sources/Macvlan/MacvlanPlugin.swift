import CNI
import LinkPlugin

/// The macvlan CNI plugin: the shared link-plugin verbs, with macvlan's config, modes and link.
public struct MacvlanPlugin: CNIPlugin {
    /// The kernel, or a fake in tests.
    let system: any LinkSystem

    public init(system: any LinkSystem = Kernel()) { self.system = system }

    public var name: String { "macvlan" }
    /// CNI_ARGS MAC= sets the interface's MAC (between config `mac` and `runtimeConfig.mac` in precedence).
    public var argKeys: Set<String> { ["MAC"] }

    /// Leftovers of a killed ADD are recognised by this prefix (see TemporaryName).
    public static let temporaryName = TemporaryName(prefix: "mvtmp")
}
