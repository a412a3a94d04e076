import CNI
import LinkPlugin
import NetTypes

/// The macvtap CNI plugin: the macvlan family's verbs, with a macvtap link, its character device node made by
/// the plugin (see TapNode) and, with `deviceID`, an existing macvtap adopted and given back.
public struct MacvtapPlugin: CNIPlugin {
    /// The kernel, or a fake in tests.
    let system: any LinkSystem
    /// sysfs, device nodes, records; a fake in tests.
    let host: any TapHost

    public init(system: any LinkSystem = Kernel(), host: any TapHost = HostFiles()) {
        self.system = system
        self.host = host
    }

    public var name: String { "macvtap" }
    /// CNI_ARGS MAC= sets the interface's MAC (between config `mac` and `runtimeConfig.mac` in precedence).
    public var argKeys: Set<String> { ["MAC"] }

    /// Leftovers of a killed ADD are recognised by this prefix (see TemporaryName).
    public static let temporaryName = TemporaryName(prefix: "mttmp")

    /// The record of an attachment: `<stateDir>/<network>/<CNI_CONTAINERID>@<CNI_IFNAME>`.
    static func recordPath(_ config: MacvtapConfig, network: String, containerID: String, ifName: InterfaceName) -> String {
        "\(config.stateDirectory)/\(network)/\(AttachmentRecord.fileName(containerID: containerID, ifName: ifName))"
    }

    func readRecord(_ path: String) throws(CNIError) -> AttachmentRecord? {
        guard let bytes = try host.read(path) else { return nil }
        guard let record = AttachmentRecord(decoding: bytes) else {
            throw CNIError(.ioFailure, "the record \(path) is damaged", details: "remove it by hand once the attachment is gone")
        }
        return record
    }
}
